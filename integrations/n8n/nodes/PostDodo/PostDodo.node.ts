import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { accountLabel, catalogue, mediaType, nodeProperties, routedFields } from './shared/catalogue';
import { automaticKey, type KeyParts } from './shared/idempotency';
import { apiRequest } from './shared/transport';
import { platformVersions, scheduleTime, splitValues, textLines } from './shared/values';

const PAGE_SIZE = 100; // the API's largest page
const CREATE_FIELDS = [
	'caption',
	'accountIds',
	'scheduledAt',
	'media',
	'mediaAlt',
	'platformCaptions',
	'firstComment',
	'thread',
	'idempotencyKey',
];
const LIST_FIELDS = ['returnAll', 'limit', 'filters', 'status', 'accountId'];

function isEmpty(value: unknown): boolean {
	return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** Catalogue fields of the operation this node does not map itself, as request body or query values. */
function extraValues(this: IExecuteFunctions, operation: string, handled: string[], i: number) {
	const body: IDataObject = {};
	const qs: IDataObject = {};
	for (const field of routedFields(catalogue.node.properties, 'post', operation, handled)) {
		const value = this.getNodeParameter(field.name, i, '') as IDataObject[keyof IDataObject];
		if (!isEmpty(value)) (field.to === 'query' ? qs : body)[field.property] = value;
	}
	return { body, qs };
}

export class PostDodo implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PostDodo',
		name: 'postDodo',
		icon: { light: 'file:postdodo.svg', dark: 'file:postdodo.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Publish and schedule social media posts with PostDodo',
		defaults: {
			name: 'PostDodo',
		},
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'postDodoApi',
				required: true,
			},
		],
		properties: nodeProperties(),
	};

	methods = {
		loadOptions: {
			async getAccounts(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const { body } = await apiRequest.call(this, { method: 'GET', path: '/v1/accounts' });
				const accounts = (Array.isArray(body.data) ? body.data : []) as IDataObject[];
				return accounts
					.map((account) => ({
						name: accountLabel(account),
						value: String(account.id),
						description: account.status === 'active' ? undefined : `Status: ${String(account.status)}`,
					}))
					.sort((a, b) => a.name.localeCompare(b.name));
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];

		for (let i = 0; i < items.length; i++) {
			try {
				const resource = this.getNodeParameter('resource', i) as string;
				const operation = this.getNodeParameter('operation', i) as string;
				let results: IDataObject[];
				if (resource === 'post') {
					results = await runPost.call(this, operation, i);
				} else if (resource === 'account' && operation === 'getAll') {
					const { body } = await apiRequest.call(this, { method: 'GET', path: '/v1/accounts', itemIndex: i });
					results = ((body.data ?? []) as IDataObject[]).map((a) => ({ ...a, label: accountLabel(a) }));
				} else {
					throw new NodeOperationError(this.getNode(), `Unsupported operation "${operation}" of "${resource}"`, {
						itemIndex: i,
					});
				}
				for (const json of results) {
					returnData.push({ json, pairedItem: { item: i } });
				}
			} catch (error) {
				if (this.continueOnFail()) {
					returnData.push({
						json: { error: error.message, ...(error.description ? { details: error.description } : {}) },
						pairedItem: { item: i },
					});
					continue;
				}
				// Both constructors hand back an error that is already theirs, keeping the API's details.
				if (error instanceof NodeApiError) throw new NodeApiError(this.getNode(), error as unknown as JsonObject);
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
			}
		}

		return [returnData];
	}
}

function postPath(this: IExecuteFunctions, i: number): string {
	const postId = String(this.getNodeParameter('postId', i) ?? '').trim();
	if (!postId) throw new NodeOperationError(this.getNode(), 'Post ID is empty', { itemIndex: i });
	return `/v1/posts/${encodeURIComponent(postId)}`;
}

async function runPost(this: IExecuteFunctions, operation: string, i: number): Promise<IDataObject[]> {
	if (operation === 'create') return [await createPost.call(this, i)];
	if (operation === 'get') {
		return [(await apiRequest.call(this, { method: 'GET', path: postPath.call(this, i), itemIndex: i })).body];
	}
	if (operation === 'cancel') {
		return [(await apiRequest.call(this, { method: 'DELETE', path: postPath.call(this, i), itemIndex: i })).body];
	}
	if (operation === 'getAll') return await listPosts.call(this, i);
	throw new NodeOperationError(this.getNode(), `Unsupported post operation "${operation}"`, { itemIndex: i });
}

/** Where this item runs, for its automatic Idempotency-Key. */
function keyParts(this: IExecuteFunctions, i: number): KeyParts {
	// $runIndex counts the runs of this node in the execution (a loop runs it again). Contexts without a
	// data proxy (older n8n, a tool call) count as run 0.
	let runIndex = 0;
	try {
		const value = Number(this.getWorkflowDataProxy(i)?.$runIndex);
		if (Number.isInteger(value)) runIndex = value;
	} catch {
		// keep 0
	}
	return {
		instanceId: typeof this.getInstanceId === 'function' ? String(this.getInstanceId() ?? '') : '',
		workflowId: String(this.getWorkflow().id ?? ''),
		executionId: String(this.getExecutionId() ?? ''),
		nodeId: String(this.getNode().id ?? this.getNode().name),
		runIndex,
		itemIndex: i,
	};
}

async function createPost(this: IExecuteFunctions, i: number): Promise<IDataObject> {
	const body: IDataObject = {
		caption: String(this.getNodeParameter('caption', i, '') ?? ''),
		account_ids: splitValues(this.getNodeParameter('accountIds', i, [])),
	};
	Object.assign(body, extraValues.call(this, 'create', CREATE_FIELDS, i).body);
	if ((body.account_ids as string[]).length === 0) {
		throw new NodeOperationError(this.getNode(), 'Choose at least one account to post to', { itemIndex: i });
	}
	let scheduledAt: string | undefined;
	try {
		scheduledAt = scheduleTime(this.getNodeParameter('scheduledAt', i, ''), this.getTimezone());
	} catch (error) {
		throw new NodeOperationError(this.getNode(), `Publish At: ${(error as Error).message}`, { itemIndex: i });
	}
	if (scheduledAt) body.scheduled_at = scheduledAt;
	const media = splitValues(this.getNodeParameter('media', i, []));
	const alts = textLines(this.getNodeParameter('mediaAlt', i, []), true);
	if (alts.length > media.length) {
		throw new NodeOperationError(
			this.getNode(),
			`Media Alt Texts: ${alts.length} alt texts for ${media.length} media URLs (at most one per media URL, in order)`,
			{ itemIndex: i },
		);
	}
	if (media.length > 0) {
		body.media = media.map((url, index) => ({ type: mediaType(url), url, ...(alts[index] ? { alt: alts[index] } : {}) }));
	}
	const platforms = platformVersions(this.getNodeParameter('platformCaptions', i, {}));
	if (Object.keys(platforms).length > 0) body.platforms = platforms;
	const firstComment = String(this.getNodeParameter('firstComment', i, '') ?? '').trim();
	if (firstComment) body.first_comment = firstComment;
	const thread = textLines(this.getNodeParameter('thread', i, []));
	if (thread.length > 0) body.thread = thread.map((caption) => ({ caption }));

	// A retry of this item replays the first answer instead of posting twice.
	const given = String(this.getNodeParameter('idempotencyKey', i, '') ?? '').trim();
	const key = given || automaticKey(keyParts.call(this, i));
	const { body: post } = await apiRequest.call(this, {
		method: 'POST',
		path: '/v1/posts',
		body,
		headers: { 'Idempotency-Key': key.slice(0, 255) },
		itemIndex: i,
	});
	return post;
}

async function listPosts(this: IExecuteFunctions, i: number): Promise<IDataObject[]> {
	const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
	const limit = returnAll ? Infinity : Math.max(1, Number(this.getNodeParameter('limit', i, 50)));
	const filters = this.getNodeParameter('filters', i, {}) as IDataObject;
	const qs: IDataObject = extraValues.call(this, 'getAll', LIST_FIELDS, i).qs;
	// Filters live in a collection here; top-level fields are read too, should the catalogue add them.
	const status = filters.status ?? this.getNodeParameter('status', i, '');
	const accountId = filters.accountId ?? this.getNodeParameter('accountId', i, '');
	if (status) qs.status = status;
	if (accountId) qs.account_id = accountId;

	const posts: IDataObject[] = [];
	let cursor: string | undefined;
	do {
		const pageSize = Math.min(PAGE_SIZE, limit - posts.length);
		const { body } = await apiRequest.call(this, {
			method: 'GET',
			path: '/v1/posts',
			qs: { ...qs, limit: pageSize, ...(cursor ? { cursor } : {}) },
			itemIndex: i,
		});
		posts.push(...((body.data ?? []) as IDataObject[]));
		cursor = body.has_more && body.next_cursor ? String(body.next_cursor) : undefined;
	} while (cursor && posts.length < limit);
	return posts.slice(0, limit);
}
