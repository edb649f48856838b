import type { IDataObject, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import generated from '../catalogue.json';

/**
 * The node's fields come from the Python catalogue (postdodo_connect/automation), rendered by
 * `postdodo export` into integrations/generated/n8n-properties.json and copied here at build time.
 * This module adapts that data to a programmatic node and adds only what the catalogue does not
 * describe yet (listing posts, the events the catalogue has no trigger for).
 */

interface CatalogueRequest {
	method: string;
	url: string;
}

export interface CataloguePoll {
	key: string;
	label?: string;
	description?: string;
	request?: CatalogueRequest & { qs?: IDataObject };
	dedupeBy?: string;
	properties?: IDataObject[];
}

interface Catalogue {
	node: {
		properties: IDataObject[];
		loadOptions?: Record<string, { request?: CatalogueRequest; name?: string; value?: string }>;
	};
	trigger: {
		properties: IDataObject[];
		webhook?: {
			create?: CatalogueRequest & { body?: string[] };
			checkExists?: CatalogueRequest & { match?: string[] };
			delete?: CatalogueRequest;
			signatureHeaders?: string[];
		};
		polling?: CataloguePoll[];
	};
	samples?: Record<string, IDataObject>;
}

export const catalogue = generated as unknown as Catalogue;

/** Every event type the API can deliver (models.EVENT_TYPES), with help for those the catalogue lacks. */
export const EVENT_TYPES: INodePropertyOptions[] = [
	{
		name: 'Account Disconnected',
		value: 'account.disconnected',
		description: 'Triggers when a connected account is removed or its platform login expires',
	},
	{
		name: 'Account Expiring',
		value: 'account.expiring',
		description: 'Triggers days before a platform login that cannot be renewed automatically expires',
	},
	{
		name: 'Account Reconnected',
		value: 'account.reconnected',
		description: 'Triggers when an account is connected again through a connect session and can publish again',
	},
	{
		name: 'Post Canceled',
		value: 'post.canceled',
		description: 'Triggers when targets of a post are canceled before they were published',
	},
	{
		name: 'Post Completed',
		value: 'post.completed',
		description: 'Triggers when every account of a post is done',
	},
	{
		name: 'Post Failed',
		value: 'post.failed',
		description: 'Triggers when a post could not be published on one account',
	},
	{
		name: 'Post Published',
		value: 'post.published',
		description: 'Triggers when a post is confirmed live on one account',
	},
	{
		name: 'Post Retrying',
		value: 'post.retrying',
		description: 'Triggers when publishing on one account failed for now and will be tried again',
	},
	{
		name: 'Post Scheduled',
		value: 'post.scheduled',
		description: 'Triggers when a post is created for a later time',
	},
	{
		name: 'Post Thread Failed',
		value: 'post.thread_failed',
		description: 'Triggers when a thread stopped at an item it could not post (the first post stays live)',
	},
	{
		name: 'Post Thread Published',
		value: 'post.thread_published',
		description: 'Triggers when every item of a thread is live on one account',
	},
	{
		name: 'Post Unpublished',
		value: 'post.unpublished',
		description: 'Triggers when a published post was taken down from one account (or its removal failed)',
	},
	{
		name: 'Post Updated',
		value: 'post.updated',
		description: 'Triggers when a scheduled post is edited before it goes out',
	},
];

const POST_STATUSES: INodePropertyOptions[] = [
	{ name: 'Canceled', value: 'canceled' },
	{ name: 'Failed', value: 'failed' },
	{ name: 'Partially Published', value: 'partially_published' },
	{ name: 'Published', value: 'published' },
	{ name: 'Publishing', value: 'publishing' },
	{ name: 'Scheduled', value: 'scheduled' },
];

const VIDEO_SUFFIXES = ['mp4', 'mov', 'm4v', 'webm', 'avi', 'mkv'];

const byName = (a: INodePropertyOptions, b: INodePropertyOptions) => a.name.localeCompare(b.name);

/** A catalogue property without its declarative `routing` (this node sends its requests itself). */
function programmatic(property: IDataObject): INodeProperties {
	const { routing: _routing, ...rest } = property;
	void _routing;
	const copy = JSON.parse(JSON.stringify(rest)) as INodeProperties;
	if (Array.isArray(copy.options)) {
		copy.options = (copy.options as unknown as IDataObject[]).map((option) => {
			const { routing: _optionRouting, ...plain } = option;
			void _optionRouting;
			return plain;
		}) as unknown as INodeProperties['options'];
	}
	return copy;
}

function shownFor(property: INodeProperties, resource: string, operation?: string): boolean {
	const show = property.displayOptions?.show ?? {};
	const resources = show.resource as string[] | undefined;
	const operations = show.operation as string[] | undefined;
	if (!resources?.includes(resource)) return false;
	return operation === undefined ? operations === undefined : Boolean(operations?.includes(operation));
}

/** The catalogue's status choices for posts (from its polling trigger), else the API's list. */
function postStatuses(): INodePropertyOptions[] {
	for (const poll of catalogue.trigger.polling ?? []) {
		const status = (poll.properties ?? []).find((p) => p.name === 'status');
		if (status && Array.isArray(status.options)) {
			return (status.options as unknown as INodePropertyOptions[]).map((o) => ({ name: o.name, value: o.value }));
		}
	}
	return POST_STATUSES;
}

/** Fields for listing posts, which the catalogue does not describe (yet). */
function listPostFields(): INodeProperties[] {
	const show = { resource: ['post'], operation: ['getAll'] };
	return [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
			displayOptions: { show },
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { ...show, returnAll: [false] } },
		},
		{
			displayName: 'Filters',
			name: 'filters',
			type: 'collection',
			placeholder: 'Add Filter',
			default: {},
			displayOptions: { show },
			options: [
				{
					displayName: 'Account Name or ID',
					name: 'accountId',
					type: 'options',
					typeOptions: { loadOptionsMethod: 'getAccounts' },
					default: '',
					description:
						'Only posts to this account. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				},
				{
					displayName: 'Status',
					name: 'status',
					type: 'options',
					options: postStatuses(),
					default: 'published',
					description: 'Only posts in this status',
				},
			],
		},
	];
}

const LIST_POSTS: INodePropertyOptions = {
	name: 'Get Many',
	value: 'getAll',
	action: 'List posts',
	description: 'Lists the posts of the workspace, newest first',
};

/** The action node's properties: the catalogue's, plus listing posts when the catalogue lacks it. */
export function nodeProperties(): INodeProperties[] {
	const properties = catalogue.node.properties.map(programmatic);
	const postOperations = properties.find((p) => p.name === 'operation' && shownFor(p, 'post'));
	if (postOperations && Array.isArray(postOperations.options)) {
		const options = postOperations.options as INodePropertyOptions[];
		const values = options.map((o) => o.value);
		if (values.includes('create')) postOperations.default = 'create'; // the common case first
		if (!values.includes('getAll')) {
			options.push(LIST_POSTS);
			options.sort(byName);
			properties.push(...listPostFields());
		}
	}
	const idempotency = properties.find((p) => p.name === 'idempotencyKey');
	if (idempotency) {
		idempotency.hint =
			'Left empty, a key unique to this n8n instance, execution, node, run and item is sent; n8n retries of the item send the same key';
	}
	return properties;
}

/** The trigger's events option: the catalogue's events plus every other event type the API delivers. */
export function triggerEventsProperty(): INodeProperties {
	const fromCatalogue = catalogue.trigger.properties.find((p) => p.name === 'events');
	const property = fromCatalogue
		? programmatic(fromCatalogue)
		: ({
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: ['post.published'],
				description: 'The PostDodo events that start this workflow',
			} as INodeProperties);
	const options = ((property.options as INodePropertyOptions[] | undefined) ?? []).slice();
	const known = new Set(options.map((o) => o.value));
	for (const event of EVENT_TYPES) {
		if (!known.has(event.value)) options.push(event);
	}
	property.options = options.sort(byName);
	return property;
}

/** An account as a dropdown label, from the catalogue's loadOptions name template. */
export function accountLabel(account: IDataObject): string {
	const template = catalogue.node.loadOptions?.getAccounts?.name;
	if (!template) return `${account.platform} · ${account.handle}`;
	const text = template
		.replace(/^=/, '')
		.replace(/\{\{\s*\$responseItem\.(\w+)\s*\}\}/g, (_match, key: string) => {
			const value = account[key] ?? (key === 'display_name' ? account.handle : undefined);
			return value === undefined || value === null ? '' : String(value);
		});
	return text.replace(/\s+/g, ' ').trim();
}

/** The media type the catalogue infers from a URL: video for known video suffixes, else image. */
export function mediaType(url: string): 'image' | 'video' {
	const path = url.split(/[?#]/)[0].toLowerCase();
	return videoSuffixes().some((suffix) => path.endsWith(`.${suffix}`)) ? 'video' : 'image';
}

function videoSuffixes(): string[] {
	const media = catalogue.node.properties.find((p) => p.name === 'media');
	const expression = String(((media?.routing as IDataObject)?.send as IDataObject)?.value ?? '');
	const match = /\\\.\(([a-z0-9|]+)\)\$\/i/i.exec(expression);
	return match ? match[1].split('|') : VIDEO_SUFFIXES;
}

export interface RoutedField {
	name: string;
	to: 'body' | 'query';
	property: string;
}

/**
 * Catalogue fields of one operation that go straight into the request body or query (their
 * `routing.send`), except those in `handled`, which the node maps itself. Fields the catalogue adds
 * later are thereby sent without a change to the node.
 */
export function routedFields(
	properties: IDataObject[],
	resource: string,
	operation: string,
	handled: string[],
): RoutedField[] {
	const fields: RoutedField[] = [];
	for (const property of properties) {
		const show = ((property.displayOptions as IDataObject)?.show ?? {}) as Record<string, unknown>;
		const resources = show.resource as string[] | undefined;
		const operations = show.operation as string[] | undefined;
		if (!resources?.includes(resource) || !operations?.includes(operation)) continue;
		const send = (property.routing as IDataObject)?.send as IDataObject | undefined;
		if (!send?.property || handled.includes(String(property.name))) continue;
		fields.push({
			name: String(property.name),
			to: send.type === 'query' ? 'query' : 'body',
			property: String(send.property),
		});
	}
	return fields;
}

/** Webhook endpoint paths of the API, as the catalogue lists them. */
export const WEBHOOKS = {
	collection: catalogue.trigger.webhook?.create?.url ?? '/v1/webhooks',
	item: (id: string) =>
		(catalogue.trigger.webhook?.delete?.url ?? '/v1/webhooks/{id}').replace('{id}', encodeURIComponent(id)),
};

/** The catalogue's polling trigger `key` (request, dedupe field, fields), with defaults should it lack one. */
export function pollingTrigger(key: string): Required<Pick<CataloguePoll, 'request' | 'dedupeBy'>> & CataloguePoll {
	const found = (catalogue.trigger.polling ?? []).find((poll) => poll.key === key);
	return {
		key,
		...found,
		request: found?.request ?? { method: 'GET', url: '/v1/posts', qs: { limit: 25 } },
		dedupeBy: found?.dedupeBy ?? 'id',
	};
}

/** A polling trigger's fields as node properties (a status filter for New Post). */
export function pollingProperties(key: string): INodeProperties[] {
	return (pollingTrigger(key).properties ?? []).map((property) => {
		const copy = programmatic(property);
		if (copy.type === 'options' && Array.isArray(copy.options) && copy.default === '') {
			// "Any" makes the empty default a real choice, as n8n's options fields need one.
			const options = (copy.options as INodePropertyOptions[]).slice().sort(byName);
			copy.options = [{ name: 'Any Status', value: '' }, ...options];
		}
		return copy;
	});
}
