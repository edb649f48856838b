import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
	catalogueModule,
	executeContext,
	loadOptionsContext,
	n8nNetworkError,
	n8nWorkflow,
	NODE,
	PostDodo,
	PostDodoApi,
	recorded,
	routes,
	stubHttp,
	values,
} from './helpers.mjs';

const node = new PostDodo();
const accounts = recorded.accounts.body.data;
const [instagram, bluesky] = accounts;

async function run(params, table, options = {}) {
	const http = stubHttp(routes(table));
	const context = executeContext({ params, http, ...options });
	const output = await node.execute.call(context);
	return { output, calls: http.calls };
}

describe('credentials', () => {
	const credentials = new PostDodoApi();

	it('sends the key as a bearer token', () => {
		assert.equal(credentials.name, 'postDodoApi');
		assert.deepEqual(credentials.authenticate, {
			type: 'generic',
			properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
		});
	});

	it('has a base URL defaulting to a local server and a password-typed key', () => {
		const byName = Object.fromEntries(credentials.properties.map((p) => [p.name, p]));
		assert.equal(byName.baseUrl.default, 'http://127.0.0.1:8080');
		assert.equal(byName.apiKey.typeOptions.password, true);
	});

	it('is tested with GET /v1/accounts', () => {
		assert.equal(credentials.test.request.method, 'GET');
		assert.equal(credentials.test.request.url, '/v1/accounts');
		assert.match(credentials.test.request.baseURL, /\$credentials\.baseUrl/);
	});

	it('tests /v1/accounts once whether or not the base URL ends in /v1 (n8n evaluates the base URL expression)', () => {
		const nodeTypes = {
			getByName: () => ({ description: { properties: [] } }),
			getByNameAndVersion: () => ({ description: { properties: [] } }),
			getKnownTypes: () => ({}),
		};
		const workflow = new n8nWorkflow.Workflow({ nodes: [NODE], connections: {}, active: false, nodeTypes });
		const evaluate = (baseUrl) =>
			workflow.expression.getParameterValue(credentials.test.request.baseURL, null, 0, 0, NODE.name, [], 'internal', {
				$credentials: { baseUrl },
			});
		for (const baseUrl of ['https://pd.example.com', 'https://pd.example.com/', 'https://pd.example.com/v1', ' https://pd.example.com/v1/ ']) {
			assert.equal(`${evaluate(baseUrl)}${credentials.test.request.url}`, 'https://pd.example.com/v1/accounts', baseUrl);
		}
		assert.equal(evaluate('https://pd.example.com/api/v1/'), 'https://pd.example.com/api');
	});
});

describe('loadOptions getAccounts', () => {
	it('lists the accounts as labelled options, from GET /v1/accounts', async () => {
		const http = stubHttp(routes({ 'GET /v1/accounts': recorded.accounts }));
		const options = await node.methods.loadOptions.getAccounts.call(loadOptionsContext({ http }));
		assert.equal(options.length, accounts.length);
		const ig = options.find((o) => o.value === instagram.id);
		assert.equal(ig.name, 'Demo instagram (instagram @demo_instagram)');
		assert.deepEqual(
			options.map((o) => o.name),
			[...options.map((o) => o.name)].sort((a, b) => a.localeCompare(b)),
		);
		assert.equal(http.calls[0].url, 'http://127.0.0.1:8080/v1/accounts');
		assert.equal(http.calls[0].credentialName, 'postDodoApi');
	});

	it('marks accounts that need attention', async () => {
		const expired = { ...instagram, status: 'expired' };
		const http = stubHttp(routes({ 'GET /v1/accounts': { statusCode: 200, body: { data: [expired] } } }));
		const [option] = await node.methods.loadOptions.getAccounts.call(loadOptionsContext({ http }));
		assert.equal(option.description, 'Status: expired');
	});

	it('falls back to the handle when there is no display name', async () => {
		const bare = { ...bluesky, display_name: null };
		const http = stubHttp(routes({ 'GET /v1/accounts': { statusCode: 200, body: { data: [bare] } } }));
		const [option] = await node.methods.loadOptions.getAccounts.call(loadOptionsContext({ http }));
		assert.equal(option.name, 'demo_bluesky (bluesky @demo_bluesky)');
	});

	it('turns a wrong key into a NodeApiError with the API message', async () => {
		const http = stubHttp(routes({ 'GET /v1/accounts': recorded.unauthorized }));
		await assert.rejects(node.methods.loadOptions.getAccounts.call(loadOptionsContext({ http })), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.match(error.message, /invalid API key.*\[unauthorized\]/);
			assert.equal(String(error.httpCode), '401');
			return true;
		});
	});
});

describe('execute: post create', () => {
	const base = {
		resource: 'post',
		operation: 'create',
		caption: 'Our spring menu is here!',
		accountIds: [instagram.id, bluesky.id],
		scheduledAt: '2030-04-01T09:00:00Z',
		media: ['https://example.com/menu.jpg'],
		idempotencyKey: '',
	};

	it('schedules a post with media and a derived Idempotency-Key', async () => {
		const { output, calls } = await run(base, { 'POST /v1/posts': recorded.createScheduled });
		assert.equal(calls.length, 1);
		const call = calls[0];
		assert.equal(call.url, 'http://127.0.0.1:8080/v1/posts');
		assert.deepEqual(call.body, {
			caption: 'Our spring menu is here!',
			account_ids: [instagram.id, bluesky.id],
			scheduled_at: '2030-04-01T09:00:00Z',
			media: [{ type: 'image', url: 'https://example.com/menu.jpg' }],
		});
		assert.match(call.headers['Idempotency-Key'], /^n8n-exec-42-0-0-[0-9a-f]{32}$/);
		assert.deepEqual(output, [[{ json: recorded.createScheduled.body, pairedItem: { item: 0 } }]]);
	});

	it('publishes now when no time is given, one key per item, and types video URLs', async () => {
		const params = (i) => ({
			...base,
			scheduledAt: '',
			caption: `item ${i}`,
			media: ['https://cdn.example.com/clip.MP4?sig=1', 'https://cdn.example.com/a.jpg'],
		});
		const { output, calls } = await run(
			params,
			{ 'POST /v1/posts': recorded.createScheduled },
			{ items: [{ json: {} }, { json: {} }] },
		);
		assert.equal(calls.length, 2);
		assert.equal('scheduled_at' in calls[0].body, false);
		assert.deepEqual(calls[0].body.media, [
			{ type: 'video', url: 'https://cdn.example.com/clip.MP4?sig=1' },
			{ type: 'image', url: 'https://cdn.example.com/a.jpg' },
		]);
		const keys = calls.map((c) => c.headers['Idempotency-Key']);
		assert.match(keys[0], /^n8n-exec-42-0-0-/);
		assert.match(keys[1], /^n8n-exec-42-0-1-/);
		assert.deepEqual(
			output[0].map((o) => o.pairedItem),
			[{ item: 0 }, { item: 1 }],
		);
	});

	it('sends alt texts, per-platform captions, the first comment and the thread', async () => {
		const { calls } = await run(
			{
				...base,
				media: ['https://example.com/menu.jpg', 'https://example.com/clip.mp4'],
				mediaAlt: ['A chalkboard menu, five dishes', ''],
				platformCaptions: {
					captions: [
						{ platform: 'bluesky', caption: 'Longer, for Bluesky' },
						{ platform: 'instagram', caption: ' ' },
					],
				},
				firstComment: ' Full menu: https://example.com/menu ',
				thread: ['2/ Asparagus, from down the road', '', '3/ Rhubarb\nfrom the garden'],
			},
			{ 'POST /v1/posts': recorded.createScheduled },
		);
		assert.deepEqual(calls[0].body, {
			caption: 'Our spring menu is here!',
			account_ids: [instagram.id, bluesky.id],
			scheduled_at: '2030-04-01T09:00:00Z',
			media: [
				{ type: 'image', url: 'https://example.com/menu.jpg', alt: 'A chalkboard menu, five dishes' },
				{ type: 'video', url: 'https://example.com/clip.mp4' },
			],
			platforms: { bluesky: { caption: 'Longer, for Bluesky' } },
			first_comment: 'Full menu: https://example.com/menu',
			thread: [{ caption: '2/ Asparagus, from down the road' }, { caption: '3/ Rhubarb\nfrom the garden' }],
		});
	});

	it('takes alt texts and thread items one per line from an expression', async () => {
		const { calls } = await run(
			{ ...base, mediaAlt: 'Menu, on a board\n', thread: 'second\n\nthird, last' },
			{ 'POST /v1/posts': recorded.createScheduled },
		);
		assert.deepEqual(calls[0].body.media, [{ type: 'image', url: 'https://example.com/menu.jpg', alt: 'Menu, on a board' }]);
		assert.deepEqual(calls[0].body.thread, [{ caption: 'second' }, { caption: 'third, last' }]);
	});

	it('refuses more alt texts than media without calling the API', async () => {
		const http = stubHttp(routes({}));
		const context = executeContext({ params: { ...base, mediaAlt: ['one', 'two'] }, http });
		await assert.rejects(node.execute.call(context), /2 alt texts for 1 media URLs/);
		assert.equal(http.calls.length, 0);
	});

	it('uses the idempotency key given by the user', async () => {
		const { calls } = await run(
			{ ...base, idempotencyKey: ' rss-guid-123 ' },
			{ 'POST /v1/posts': recorded.createScheduled },
		);
		assert.equal(calls[0].headers['Idempotency-Key'], 'rss-guid-123');
	});

	it('accepts account ids and media as comma-separated text (expressions)', async () => {
		const { calls } = await run(
			{ ...base, accountIds: `${instagram.id}, ${bluesky.id}`, media: 'https://a.example/x.png;https://a.example/y.webm' },
			{ 'POST /v1/posts': recorded.createScheduled },
		);
		assert.deepEqual(calls[0].body.account_ids, [instagram.id, bluesky.id]);
		assert.deepEqual(
			calls[0].body.media.map((m) => m.type),
			['image', 'video'],
		);
	});

	it("reads a time without offset in the workflow's time zone", async () => {
		const { calls } = await run(
			{ ...base, scheduledAt: '2030-07-01T09:00:00' },
			{ 'POST /v1/posts': recorded.createScheduled },
			{ timezone: 'Europe/Berlin' },
		);
		assert.equal(calls[0].body.scheduled_at, '2030-07-01T07:00:00Z');
	});

	it('surfaces the API refusal with its message, code and field problems', async () => {
		await assert.rejects(
			run({ ...base, media: [], accountIds: [instagram.id] }, { 'POST /v1/posts': recorded.createInvalid }),
			(error) => {
				assert.ok(error instanceof n8nWorkflow.NodeApiError);
				assert.equal(error.message, 'post refused: Instagram needs at least one image or video [invalid_request]');
				assert.match(error.description, /instagram media: /);
				assert.match(error.description, /Request ID: req_/);
				assert.equal(String(error.httpCode), '400');
				return true;
			},
		);
	});

	it('sends fields the catalogue adds later by their routing, without a node change', async (t) => {
		const properties = catalogueModule.catalogue.node.properties;
		properties.push({
			displayName: 'Visibility',
			name: 'visibility',
			type: 'string',
			default: '',
			displayOptions: { show: { resource: ['post'], operation: ['create'] } },
			routing: { send: { type: 'body', property: 'visibility' } },
		});
		t.after(() => properties.pop());
		const { calls } = await run({ ...base, visibility: 'unlisted' }, { 'POST /v1/posts': recorded.createScheduled });
		assert.equal(calls[0].body.visibility, 'unlisted');
		const { calls: without } = await run(base, { 'POST /v1/posts': recorded.createScheduled });
		assert.equal('visibility' in without[0].body, false);
	});

	it('refuses an empty account list before calling the API', async () => {
		await assert.rejects(run({ ...base, accountIds: [] }, {}), /at least one account/);
	});

	it('refuses a Publish At that is not a date', async () => {
		await assert.rejects(run({ ...base, scheduledAt: 'next tuesday' }, {}), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeOperationError);
			assert.match(error.message, /Publish At/);
			return true;
		});
	});
});

describe('execute: post get, cancel, list', () => {
	const post = recorded.createScheduled.body;

	it('gets a post by id', async () => {
		const { output, calls } = await run(
			{ resource: 'post', operation: 'get', postId: ` ${post.id} ` },
			{ [`GET /v1/posts/${post.id}`]: recorded.getPost },
		);
		assert.equal(calls[0].method, 'GET');
		assert.equal(output[0][0].json.id, post.id);
		assert.equal(output[0][0].json.targets.length, 2);
	});

	it('cancels a post', async () => {
		const { output, calls } = await run(
			{ resource: 'post', operation: 'cancel', postId: post.id },
			{ [`DELETE /v1/posts/${post.id}`]: recorded.cancel },
		);
		assert.equal(calls[0].method, 'DELETE');
		assert.equal(output[0][0].json.status, 'canceled');
	});

	it('reports 409 when nothing is left to cancel', async () => {
		await assert.rejects(
			run({ resource: 'post', operation: 'cancel', postId: post.id }, { [`DELETE /v1/posts/${post.id}`]: recorded.cancelAgain }),
			(error) => {
				assert.ok(error instanceof n8nWorkflow.NodeApiError);
				assert.match(error.message, /no target left to cancel.*\[conflict\]/);
				assert.equal(String(error.httpCode), '409');
				return true;
			},
		);
	});

	it('continues on fail with one error item per failed input item', async () => {
		const params = (i) => ({ resource: 'post', operation: 'get', postId: i === 0 ? 'post_doesnotexist' : post.id });
		const { output } = await run(
			params,
			{ 'GET /v1/posts/post_doesnotexist': recorded.getMissing, [`GET /v1/posts/${post.id}`]: recorded.getPost },
			{ items: [{ json: {} }, { json: {} }], continueOnFail: true },
		);
		assert.equal(output[0].length, 2);
		assert.match(output[0][0].json.error, /no post post_doesnotexist \[not_found\]/);
		assert.deepEqual(output[0][0].pairedItem, { item: 0 });
		assert.equal(output[0][1].json.id, post.id);
	});

	it('lists posts up to the limit with the filters', async () => {
		const { output, calls } = await run(
			{ resource: 'post', operation: 'getAll', returnAll: false, limit: 2, filters: { status: 'scheduled', accountId: bluesky.id } },
			{ 'GET /v1/posts': recorded.listPage1 },
		);
		assert.equal(calls.length, 1);
		assert.deepEqual(calls[0].qs, { status: 'scheduled', account_id: bluesky.id, limit: 2 });
		assert.equal(output[0].length, 2);
	});

	it('follows the cursor when returning all posts', async () => {
		const { output, calls } = await run(
			{ resource: 'post', operation: 'getAll', returnAll: true, filters: {} },
			{ 'GET /v1/posts': [recorded.listPage1, recorded.listPage2] },
		);
		assert.equal(calls.length, 2);
		assert.equal(calls[0].qs.limit, 100);
		assert.equal(calls[1].qs.cursor, recorded.listPage1.body.next_cursor);
		const expected = recorded.listPage1.body.data.length + recorded.listPage2.body.data.length;
		assert.equal(output[0].length, expected);
		assert.equal(new Set(output[0].map((o) => o.json.id)).size, expected);
	});

	it('stops at the limit across pages', async () => {
		const { output, calls } = await run(
			{ resource: 'post', operation: 'getAll', returnAll: false, limit: 3, filters: {} },
			{ 'GET /v1/posts': [recorded.listPage1, recorded.listPage2] },
		);
		assert.deepEqual(
			calls.map((c) => c.qs.limit),
			[3, 1],
		);
		assert.equal(output[0].length, 3);
	});
});

describe('execute: account list', () => {
	it('lists the accounts with a label', async () => {
		const { output } = await run({ resource: 'account', operation: 'getAll' }, { 'GET /v1/accounts': recorded.accounts });
		assert.equal(output[0].length, accounts.length);
		assert.equal(output[0][0].json.id, instagram.id);
		assert.equal(output[0][0].json.label, 'Demo instagram (instagram @demo_instagram)');
	});

	it('reports a base URL that does not answer JSON', async () => {
		const html = { statusCode: 200, body: '<html>login</html>' };
		await assert.rejects(run({ resource: 'account', operation: 'getAll' }, { 'GET /v1/accounts': html }), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.match(error.message, /did not answer with JSON; check the Base URL/);
			return true;
		});
	});

	it('says which server could not be reached when n8n throws its NodeApiError for a refused connection', async () => {
		const down = () => {
			throw n8nNetworkError();
		};
		await assert.rejects(run({ resource: 'account', operation: 'getAll' }, { 'GET /v1/accounts': down }), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.equal(error.message, 'Could not reach PostDodo at http://127.0.0.1:8080');
			assert.match(error.description, /^GET http:\/\/127\.0\.0\.1:8080\/v1\/accounts failed: connect ECONNREFUSED 127\.0\.0\.1:8080/);
			assert.equal(error.context.itemIndex, 0);
			return true;
		});
	});

	it('names the cause of a failure without a message (a DNS error) by its code', async () => {
		const down = () => {
			throw n8nNetworkError('', 'ENOTFOUND');
		};
		await assert.rejects(run({ resource: 'account', operation: 'getAll' }, { 'GET /v1/accounts': down }), (error) => {
			assert.equal(error.message, 'Could not reach PostDodo at http://127.0.0.1:8080');
			assert.match(error.description, /ENOTFOUND/);
			return true;
		});
	});

	it("reads the API's error from an HTTP answer n8n threw as a NodeApiError", async () => {
		const refused = () => {
			throw n8nNetworkError('Request failed with status code 401', 'ERR_BAD_REQUEST', {
				status: 401,
				data: recorded.unauthorized.body,
			});
		};
		await assert.rejects(run({ resource: 'account', operation: 'getAll' }, { 'GET /v1/accounts': refused }), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.equal(error.message, 'invalid API key (revoked, rotated or mistyped) [unauthorized]');
			assert.match(error.description, /^invalid API key \(revoked, rotated or mistyped\) \(unauthorized, HTTP 401\)/);
			assert.equal(String(error.httpCode), '401');
			return true;
		});
	});

	it('keeps a password in the base URL out of the error', async () => {
		const down = () => {
			throw n8nNetworkError('connect ECONNREFUSED 10.0.0.5:443');
		};
		await assert.rejects(
			run(
				{ resource: 'account', operation: 'getAll' },
				{ 'GET /v1/accounts': down },
				{ credentials: { baseUrl: 'https://admin:s3cret@pd.example.com/v1', apiKey: 'k' } },
			),
			(error) => {
				assert.equal(error.message, 'Could not reach PostDodo at https://pd.example.com');
				assert.doesNotMatch(`${error.message} ${error.description}`, /s3cret/);
				return true;
			},
		);
	});

	for (const baseUrl of ['https://pd.example.com', 'https://pd.example.com/', 'https://pd.example.com/v1', 'https://pd.example.com/v1/', ' https://pd.example.com/V1// ']) {
		it(`calls /v1/accounts once with the base URL ${JSON.stringify(baseUrl)}`, async () => {
			const { calls } = await run(
				{ resource: 'account', operation: 'getAll' },
				{ 'GET /v1/accounts': recorded.accounts },
				{ credentials: { baseUrl, apiKey: 'k' } },
			);
			assert.equal(calls[0].url, 'https://pd.example.com/v1/accounts');
		});
	}
});

describe('scheduleTime', () => {
	const { scheduleTime } = values;

	it('keeps values that carry an offset', () => {
		assert.equal(scheduleTime('2030-04-01T09:00:00Z', 'Asia/Tokyo'), '2030-04-01T09:00:00Z');
		assert.equal(scheduleTime('2030-04-01T09:00:00+02:00', 'UTC'), '2030-04-01T09:00:00+02:00');
	});

	it('converts wall-clock times, across daylight-saving changes', () => {
		assert.equal(scheduleTime('2030-01-15T09:00:00', 'America/New_York'), '2030-01-15T14:00:00Z');
		assert.equal(scheduleTime('2030-07-15T09:00', 'America/New_York'), '2030-07-15T13:00:00Z');
		assert.equal(scheduleTime('2030-03-31T03:30:00', 'Europe/Berlin'), '2030-03-31T01:30:00Z');
		assert.equal(scheduleTime('2030-04-01', 'UTC'), '2030-04-01T00:00:00Z');
		assert.equal(scheduleTime('2030-04-01T09:00:00.250', 'UTC'), '2030-04-01T09:00:00.250Z');
	});

	it('takes Date and luxon-like values, and treats empty as now', () => {
		assert.equal(scheduleTime(new Date(Date.UTC(2030, 0, 1)), 'UTC'), '2030-01-01T00:00:00Z');
		assert.equal(scheduleTime({ toISO: () => '2030-01-01T01:00:00.000+01:00' }, 'UTC'), '2030-01-01T01:00:00.000+01:00');
		assert.equal(scheduleTime('', 'UTC'), undefined);
		assert.equal(scheduleTime(undefined, 'UTC'), undefined);
	});

	it('throws on text that is not a date', () => {
		assert.throws(() => scheduleTime('tomorrow', 'UTC'), /not a date/);
		assert.throws(() => scheduleTime('2030-13-99Zfoo', 'UTC'), /not a date/);
	});
});
