// The automatic Idempotency-Key of Create: unique per instance, workflow, execution, node, run and item,
// and the same for n8n's retries of an item.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { executeContext, NODE, PostDodo, recorded, routes, stubHttp } from './helpers.mjs';

const node = new PostDodo();
const [instagram] = recorded.accounts.body.data;

async function run(params, table, options = {}) {
	const http = stubHttp(routes(table));
	const context = executeContext({ params, http, ...options });
	const output = await node.execute.call(context);
	return { output, calls: http.calls };
}

describe('automatic Idempotency-Key', () => {
	const params = {
		resource: 'post',
		operation: 'create',
		caption: 'hello',
		accountIds: [instagram.id],
		scheduledAt: '',
		media: [],
		idempotencyKey: '',
	};

	async function keyFor(options = {}) {
		const { calls } = await run(params, { 'POST /v1/posts': recorded.createScheduled }, options);
		return calls[0].headers['Idempotency-Key'];
	}

	it('is the same when n8n retries the item (Retry On Fail runs the same execution, run and item)', async () => {
		assert.equal(await keyFor(), await keyFor());
	});

	it('differs for a second Create node in the same execution', async () => {
		const other = { ...NODE, id: 'node-2', name: 'PostDodo1' };
		assert.notEqual(await keyFor(), await keyFor({ node: other }));
	});

	it('differs on the next run of the node in a loop', async () => {
		assert.notEqual(await keyFor({ runIndex: 0 }), await keyFor({ runIndex: 1 }));
	});

	it('differs on another n8n instance that reuses the execution id', async () => {
		assert.notEqual(await keyFor({ instanceId: 'instance-a' }), await keyFor({ instanceId: 'instance-b' }));
	});

	it('counts as run 0 where n8n offers no workflow data proxy', async () => {
		const http = stubHttp(routes({ 'POST /v1/posts': recorded.createScheduled }));
		const context = executeContext({ params, http });
		delete context.getWorkflowDataProxy;
		await node.execute.call(context);
		assert.equal(http.calls[0].headers['Idempotency-Key'], await keyFor({ runIndex: 0 }));
	});

	it('differs per execution, workflow and item, and fits the API limit', async () => {
		const keys = new Set([
			await keyFor(),
			await keyFor({ executionId: 'exec-43' }),
			await keyFor({ workflow: { id: 'wf-8', name: 'Other', active: true } }),
		]);
		const { calls } = await run(params, { 'POST /v1/posts': recorded.createScheduled }, { items: [{ json: {} }, { json: {} }] });
		for (const call of calls) keys.add(call.headers['Idempotency-Key']);
		assert.equal(keys.size, 4); // item 0 of the two-item run is the first key again

		for (const key of keys) assert.ok(key.length <= 255);
	});
});
