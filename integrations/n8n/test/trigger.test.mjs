import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
	deliveryHeaders,
	hookContext,
	n8nNetworkError,
	n8nWorkflow,
	packageRoot,
	PostDodoTrigger,
	recorded,
	routes,
	stubHttp,
	webhookContext,
} from './helpers.mjs';

const trigger = new PostDodoTrigger();
const hooks = trigger.webhookMethods.default;
const vectors = JSON.parse(readFileSync(join(packageRoot, '../../tests/data/signing_vectors.json'), 'utf8'));

const endpoint = recorded.webhookCreate.body; // as created: has the secret
const { secret: _secret, ...listed } = endpoint; // as listed: never the secret
const URL_ = endpoint.url;
const EVENTS = ['post.published', 'post.failed'];

describe('description', () => {
	it('is a webhook trigger with the events picker', () => {
		const d = trigger.description;
		assert.deepEqual(d.group, ['trigger']);
		assert.deepEqual(d.inputs, []);
		assert.deepEqual(d.webhooks, [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }]);
		const events = d.properties.find((p) => p.name === 'events');
		assert.equal(events.type, 'multiOptions');
		const offered = events.options.map((o) => o.value);
		for (const event of [
			'account.disconnected',
			'account.expiring',
			'account.reconnected',
			'post.canceled',
			'post.completed',
			'post.failed',
			'post.published',
			'post.retrying',
			'post.scheduled',
			'post.thread_failed',
			'post.thread_published',
			'post.unpublished',
			'post.updated',
		]) {
			assert.ok(offered.includes(event), event);
		}
		const names = events.options.map((o) => o.name);
		assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
	});
});

describe('webhookMethods', () => {
	it('create registers the n8n URL and keeps the endpoint id and secret', async () => {
		const http = stubHttp(routes({ 'POST /v1/webhooks': recorded.webhookCreate }));
		const context = hookContext({ http, events: ['post.published', 'post.failed', 'post.published'], webhookUrl: URL_ });
		assert.equal(await hooks.create.call(context), true);
		assert.deepEqual(http.calls[0].body, { url: URL_, events: ['post.failed', 'post.published'], description: 'n8n: My workflow' });
		assert.deepEqual(context.staticData, { endpointId: endpoint.id, secret: endpoint.secret });
	});

	it('create fails loudly on an API refusal', async () => {
		const refused = {
			statusCode: 400,
			body: { error: { code: 'url_not_allowed', message: 'private address refused', param: 'url', request_id: 'req_1' } },
		};
		const context = hookContext({ http: stubHttp(routes({ 'POST /v1/webhooks': refused })) });
		await assert.rejects(hooks.create.call(context), (error) => {
			assert.equal(error.message, 'private address refused [url_not_allowed]');
			// n8n shows the description first when activation fails: it starts with the API's reason
			assert.deepEqual(error.description.split('\n'), [
				'private address refused (url_not_allowed, HTTP 400)',
				'Parameter: url',
				'Request ID: req_1',
				'Request: POST http://127.0.0.1:8080/v1/webhooks',
			]);
			return true;
		});
		assert.deepEqual(context.staticData, {});
	});

	it('activation names the server when n8n cannot reach it', async () => {
		const down = () => {
			throw n8nNetworkError();
		};
		const context = hookContext({ http: stubHttp(routes({ 'GET /v1/webhooks': down })) });
		await assert.rejects(hooks.checkExists.call(context), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.equal(error.message, 'Could not reach PostDodo at http://127.0.0.1:8080');
			assert.match(error.description, /^GET http:\/\/127\.0\.0\.1:8080\/v1\/webhooks failed: connect ECONNREFUSED/);
			return true;
		});
	});

	it('checkExists finds the stored endpoint by id', async () => {
		const http = stubHttp(routes({ [`GET /v1/webhooks/${endpoint.id}`]: { statusCode: 200, body: listed } }));
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const context = hookContext({ http, events: EVENTS, webhookUrl: URL_, staticData });
		assert.equal(await hooks.checkExists.call(context), true);
		assert.equal(http.calls.length, 1);
		assert.deepEqual(staticData, { endpointId: endpoint.id, secret: endpoint.secret });
	});

	it('checkExists looks the URL up in the list when the stored endpoint is gone', async () => {
		const http = stubHttp(
			routes({
				[`GET /v1/webhooks/${endpoint.id}`]: recorded.webhookGetMissing,
				'GET /v1/webhooks': { statusCode: 200, body: { data: [], has_more: false, next_cursor: null } },
			}),
		);
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const context = hookContext({ http, events: EVENTS, webhookUrl: URL_, staticData });
		assert.equal(await hooks.checkExists.call(context), false);
		assert.deepEqual(staticData, {});
	});

	it('checkExists replaces an endpoint for our URL whose secret it does not know', async () => {
		const http = stubHttp(
			routes({
				'GET /v1/webhooks': recorded.webhookList,
				[`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookDelete,
			}),
		);
		const context = hookContext({ http, events: EVENTS, webhookUrl: URL_ });
		assert.equal(await hooks.checkExists.call(context), false);
		assert.deepEqual(
			http.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`),
			['GET /v1/webhooks', `DELETE /v1/webhooks/${endpoint.id}`],
		);
	});

	it('checkExists replaces the endpoint when the chosen events changed', async () => {
		const http = stubHttp(
			routes({
				[`GET /v1/webhooks/${endpoint.id}`]: { statusCode: 200, body: listed },
				[`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookDelete,
			}),
		);
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const context = hookContext({ http, events: ['post.completed'], webhookUrl: URL_, staticData });
		assert.equal(await hooks.checkExists.call(context), false);
		assert.equal(http.calls[1].method, 'DELETE');
		assert.deepEqual(staticData, {});
	});

	it('checkExists replaces a disabled endpoint', async () => {
		const http = stubHttp(
			routes({
				[`GET /v1/webhooks/${endpoint.id}`]: { statusCode: 200, body: { ...listed, status: 'disabled' } },
				[`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookDelete,
			}),
		);
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		assert.equal(await hooks.checkExists.call(hookContext({ http, events: EVENTS, webhookUrl: URL_, staticData })), false);
	});

	it('checkExists replaces the stored endpoint when n8n\'s webhook URL changed', async () => {
		const http = stubHttp(
			routes({
				[`GET /v1/webhooks/${endpoint.id}`]: { statusCode: 200, body: listed },
				[`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookDelete,
				'GET /v1/webhooks': recorded.webhookList,
			}),
		);
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const newUrl = 'https://n8n.example.org/webhook/9f1c/webhook';
		assert.equal(await hooks.checkExists.call(hookContext({ http, events: EVENTS, webhookUrl: newUrl, staticData })), false);
		assert.deepEqual(
			http.calls.map((c) => c.method),
			['GET', 'DELETE', 'GET'],
		);
		assert.deepEqual(staticData, {});
	});

	it('checkExists in a test run leaves the production endpoint alone', async () => {
		const http = stubHttp(
			routes({
				[`GET /v1/webhooks/${endpoint.id}`]: { statusCode: 200, body: listed },
				'GET /v1/webhooks': recorded.webhookList,
			}),
		);
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const testUrl = 'https://n8n.example.com/webhook-test/9f1c/webhook';
		const context = hookContext({ http, events: EVENTS, webhookUrl: testUrl, staticData, mode: 'manual' });
		assert.equal(await hooks.checkExists.call(context), false);
		assert.deepEqual(
			http.calls.map((c) => c.method),
			['GET', 'GET'],
		);
	});

	it('checkExists propagates other API errors', async () => {
		const http = stubHttp(routes({ 'GET /v1/webhooks': recorded.unauthorized }));
		await assert.rejects(hooks.checkExists.call(hookContext({ http, webhookUrl: URL_ })), /invalid API key/);
	});

	it('delete removes the endpoint and forgets it', async () => {
		const http = stubHttp(routes({ [`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookDelete }));
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		assert.equal(await hooks.delete.call(hookContext({ http, staticData })), true);
		assert.deepEqual(staticData, {});
	});

	it('delete treats an endpoint already gone as deleted', async () => {
		const http = stubHttp(routes({ [`DELETE /v1/webhooks/${endpoint.id}`]: recorded.webhookGetMissing }));
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		assert.equal(await hooks.delete.call(hookContext({ http, staticData })), true);
		assert.deepEqual(staticData, {});
	});

	it('delete reports failure (and logs it) when the API refuses', async () => {
		const http = stubHttp(routes({ [`DELETE /v1/webhooks/${endpoint.id}`]: recorded.unauthorized }));
		const staticData = { endpointId: endpoint.id, secret: endpoint.secret };
		const context = hookContext({ http, staticData });
		assert.equal(await hooks.delete.call(context), false);
		assert.match(context.warnings[0], /could not delete webhook endpoint/);
		assert.equal(staticData.endpointId, endpoint.id);
	});

	it('delete without a stored endpoint does nothing', async () => {
		const http = stubHttp(routes({}));
		assert.equal(await hooks.delete.call(hookContext({ http })), true);
		assert.equal(http.calls.length, 0);
	});
});

describe('webhook()', () => {
	const secret = endpoint.secret;
	const envelope = {
		id: 'evt_3kq3smkozzfzl0aa',
		event: 'post.published',
		created_at: '2030-04-01T09:00:04Z',
		data: {
			post_id: 'post_KtMy2FRPdfd7VPEg',
			account_id: 'acct_kK8v03Wn5VtZA0pC',
			platform: 'instagram',
			status: 'confirmed',
			permalink: 'https://www.instagram.com/p/C4mT1bXr2Qa/',
		},
	};
	const body = JSON.stringify(envelope);
	const now = () => Math.floor(Date.now() / 1000);

	function deliver({ rawBody = body, headers, events = ['post.published'], staticData = { endpointId: endpoint.id, secret } }) {
		const context = webhookContext({ rawBody, headers, events, staticData });
		return trigger.webhook.call(context).then((result) => ({ result, context }));
	}

	it('emits a verified event as one flat item', async () => {
		const { result } = await deliver({ headers: deliveryHeaders(secret, envelope.id, now(), body) });
		assert.deepEqual(result.workflowData, [
			[{ json: { id: envelope.id, event: 'post.published', created_at: envelope.created_at, ...envelope.data } }],
		]);
	});

	it('accepts the Standard Webhooks headers alone', async () => {
		const headers = deliveryHeaders(secret, envelope.id, now(), body, { branded: false });
		const { result } = await deliver({ headers });
		assert.equal(result.workflowData[0][0].json.event, 'post.published');
	});

	it('verifies the raw bytes, not re-serialised JSON', async () => {
		const spaced = JSON.stringify(envelope, null, 2);
		const { result } = await deliver({ rawBody: spaced, headers: deliveryHeaders(secret, envelope.id, now(), spaced) });
		assert.equal(result.workflowData[0][0].json.post_id, envelope.data.post_id);
	});

	const refusals = {
		unsigned: () => ({ headers: {} }),
		'signed with another secret': () => ({
			headers: deliveryHeaders(`whsec_${Buffer.alloc(32, 9).toString('base64')}`, envelope.id, now(), body),
		}),
		stale: () => ({ headers: deliveryHeaders(secret, envelope.id, now() - 301, body) }),
		'from the future': () => ({ headers: deliveryHeaders(secret, envelope.id, now() + 301, body) }),
		'tampered with': () => ({
			headers: deliveryHeaders(secret, envelope.id, now(), body),
			rawBody: body.replace('confirmed', 'failed'),
		}),
	};
	for (const [name, make] of Object.entries(refusals)) {
		it(`answers 401 and starts nothing for a delivery that is ${name}`, async () => {
			const { result, context } = await deliver(make());
			assert.deepEqual(result, { noWebhookResponse: true });
			assert.equal(context.response.statusCode, 401);
			assert.equal(JSON.parse(context.response.body).error.code, 'invalid_signature');
			assert.equal(context.warnings.length, 1);
		});
	}

	it('answers 401 when no secret is stored', async () => {
		const { result, context } = await deliver({ headers: deliveryHeaders(secret, envelope.id, now(), body), staticData: {} });
		assert.deepEqual(result, { noWebhookResponse: true });
		assert.equal(context.response.statusCode, 401);
	});

	it('answers 400 for a signed body that is not a JSON object', async () => {
		const { context } = await deliver({ rawBody: '[1,2]', headers: deliveryHeaders(secret, 'evt_x', now(), '[1,2]') });
		assert.equal(context.response.statusCode, 400);
	});

	it('acknowledges events that were not chosen without starting the workflow', async () => {
		const failed = JSON.stringify({ ...envelope, event: 'post.failed' });
		const { result } = await deliver({ rawBody: failed, headers: deliveryHeaders(secret, envelope.id, now(), failed) });
		assert.equal(result.workflowData, undefined);
		assert.deepEqual(result.webhookResponse, { received: true, ignored: 'post.failed' });
	});

	it('lets the API test event through', async () => {
		const test = JSON.stringify({ id: 'evt_t', event: 'webhook.test', created_at: 'x', data: { message: 'hello from PostDodo' } });
		const { result } = await deliver({ rawBody: test, headers: deliveryHeaders(secret, 'evt_t', now(), test) });
		assert.equal(result.workflowData[0][0].json.message, 'hello from PostDodo');
	});

	for (const v of vectors.filter((x) => x.body.startsWith('{'))) {
		it(`passes the golden vector at its own time: ${v.name}`, async (t) => {
			t.mock.method(Date, 'now', () => v.timestamp * 1000 + 120_000);
			const event = JSON.parse(v.body).event ?? 'post.published';
			const headers = { 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': v.signature };
			const { result, context } = await deliver({
				rawBody: v.body,
				headers,
				events: [event],
				staticData: { secret: v.secret },
			});
			assert.equal(context.response.statusCode, undefined);
			assert.ok(result.workflowData || result.webhookResponse, 'accepted');
			// the same delivery 301 s later is stale
			t.mock.method(Date, 'now', () => (v.timestamp + 301) * 1000);
			const late = await deliver({ rawBody: v.body, headers, events: [event], staticData: { secret: v.secret } });
			assert.equal(late.context.response.statusCode, 401);
		});
	}
});
