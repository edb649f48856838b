import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';

import { triggerEventsProperty, WEBHOOKS } from './shared/catalogue';
import { verify } from './shared/signature';
import { apiRequest } from './shared/transport';

/** What the trigger keeps about its PostDodo webhook endpoint between activations. */
interface EndpointData {
	endpointId?: string;
	secret?: string;
}

const TEST_EVENT = 'webhook.test'; // sent by POST /v1/webhooks/:id/test to any endpoint

function selectedEvents(this: IHookFunctions | IWebhookFunctions): string[] {
	const events = this.getNodeParameter('events', []) as string[];
	return Array.from(new Set(events)).sort();
}

function sameEvents(a: unknown, b: string[]): boolean {
	const left = Array.isArray(a) ? Array.from(new Set(a.map(String))).sort() : [];
	return left.length === b.length && left.every((value, index) => value === b[index]);
}

function isNotFound(error: unknown): boolean {
	return error instanceof NodeApiError && String(error.httpCode) === '404';
}

/** The endpoint stored for this node, or undefined when it is gone (404). */
async function storedEndpoint(this: IHookFunctions, id: string): Promise<IDataObject | undefined> {
	try {
		return (await apiRequest.call(this, { method: 'GET', path: WEBHOOKS.item(id) })).body;
	} catch (error) {
		if (isNotFound(error)) return undefined;
		throw new NodeApiError(this.getNode(), error as JsonObject);
	}
}

/** Remove an endpoint; one already gone is fine. */
async function deleteEndpoint(this: IHookFunctions, id: string): Promise<void> {
	try {
		await apiRequest.call(this, { method: 'DELETE', path: WEBHOOKS.item(id) });
	} catch (error) {
		if (!isNotFound(error)) throw new NodeApiError(this.getNode(), error as JsonObject);
	}
}

/** A delivery event as one flat item: event id, type and time, then the event's data (as the catalogue shapes it). */
function eventItem(envelope: IDataObject): IDataObject {
	const data = envelope.data && typeof envelope.data === 'object' && !Array.isArray(envelope.data) ? envelope.data : {};
	return { id: envelope.id, event: envelope.event, created_at: envelope.created_at, ...(data as IDataObject) };
}

function refuse(this: IWebhookFunctions, status: number, code: string, message: string): IWebhookResponseData {
	const response = this.getResponseObject();
	response.writeHead(status, { 'Content-Type': 'application/json' });
	response.end(JSON.stringify({ error: { code, message } }));
	return { noWebhookResponse: true };
}

export class PostDodoTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'PostDodo Trigger',
		name: 'postDodoTrigger',
		icon: { light: 'file:postdodo.svg', dark: 'file:postdodo.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when PostDodo publishes, fails or completes a post',
		defaults: {
			name: 'PostDodo Trigger',
		},
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'postDodoApi',
				required: true,
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: [triggerEventsProperty()],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const url = this.getNodeWebhookUrl('default') as string;
				const events = selectedEvents.call(this);
				const data = this.getWorkflowStaticData('node') as EndpointData;

				let endpoint: IDataObject | undefined;
				if (data.endpointId) {
					const stored = await storedEndpoint.call(this, data.endpointId);
					if (stored?.url === url) {
						endpoint = stored;
					} else if (stored && this.getMode() !== 'manual') {
						// n8n's webhook URL changed since activation: the old endpoint is useless now.
						await deleteEndpoint.call(this, String(stored.id));
					}
					// In manual mode a stored endpoint is the production one (a test run has its own
					// URL, and its static data is never saved): leave it alone.
				}
				if (!endpoint) {
					const { body } = await apiRequest.call(this, { method: 'GET', path: WEBHOOKS.collection });
					endpoint = ((body.data ?? []) as IDataObject[]).find((e) => e.url === url);
				}
				if (!endpoint) {
					delete data.endpointId;
					delete data.secret;
					return false;
				}
				const usable =
					endpoint.id === data.endpointId &&
					Boolean(data.secret) &&
					endpoint.url === url &&
					endpoint.status === 'enabled' &&
					sameEvents(endpoint.events, events);
				if (usable) return true;

				// An endpoint for this URL that we cannot use (other events, disabled, or its secret is
				// unknown to us): remove it so that create() registers a fresh one.
				await deleteEndpoint.call(this, String(endpoint.id));
				delete data.endpointId;
				delete data.secret;
				return false;
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const url = this.getNodeWebhookUrl('default') as string;
				const workflow = this.getWorkflow();
				const description = `n8n: ${workflow.name ?? workflow.id ?? 'workflow'}`.slice(0, 500);
				const { body } = await apiRequest.call(this, {
					method: 'POST',
					path: WEBHOOKS.collection,
					body: { url, events: selectedEvents.call(this), description },
				});
				if (!body.id || !body.secret) {
					throw new NodeApiError(this.getNode(), body as JsonObject, {
						message: 'PostDodo created the webhook endpoint but sent no id or secret',
					});
				}
				const data = this.getWorkflowStaticData('node') as EndpointData;
				data.endpointId = String(body.id);
				data.secret = String(body.secret);
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as EndpointData;
				if (data.endpointId) {
					try {
						await apiRequest.call(this, { method: 'DELETE', path: WEBHOOKS.item(data.endpointId) });
					} catch (error) {
						if (!isNotFound(error)) {
							this.logger.warn(`PostDodo: could not delete webhook endpoint ${data.endpointId}: ${error.message}`);
							return false;
						}
					}
				}
				delete data.endpointId;
				delete data.secret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const data = this.getWorkflowStaticData('node') as EndpointData;

		// The signature covers the bytes as sent, so verify the raw body, never re-serialised JSON.
		let raw: Buffer | undefined = request.rawBody;
		if (raw === undefined && typeof request.readRawBody === 'function') {
			await request.readRawBody();
			raw = request.rawBody;
		}
		if (raw === undefined) {
			return refuse.call(this, 401, 'invalid_signature', 'the raw request body is not available to verify');
		}
		const result = verify(data.secret ?? '', this.getHeaderData() as Record<string, string>, raw);
		if (!result.ok) {
			this.logger.warn(`PostDodo Trigger refused a delivery: ${result.message}`);
			return refuse.call(this, 401, 'invalid_signature', result.message);
		}

		let envelope: IDataObject;
		try {
			envelope = JSON.parse(raw.toString('utf8')) as IDataObject;
		} catch {
			return refuse.call(this, 400, 'invalid_request', 'the body is not JSON');
		}
		if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) {
			return refuse.call(this, 400, 'invalid_request', 'the body is not a JSON object');
		}
		const event = String(envelope.event ?? '');
		if (event !== TEST_EVENT && !selectedEvents.call(this).includes(event)) {
			// Signed but not asked for (the events were changed meanwhile): acknowledge without a run.
			return { webhookResponse: { received: true, ignored: event } };
		}
		return { workflowData: [this.helpers.returnJsonArray([eventItem(envelope)])] };
	}
}
