// The polling "New Post" trigger: remembers what exists on activation, then emits each new post once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { catalogueModule, n8nNetworkError, n8nWorkflow, pollContext, PostDodoNewPostTrigger, routes, stubHttp } from './helpers.mjs';

const node = new PostDodoNewPostTrigger();

const post = (n) => ({ id: `post_${n}`, status: 'scheduled', caption: `note ${n}`, created_at: `2030-01-01T00:00:${String(n).padStart(2, '0')}Z` });

/** A GET /v1/posts answer, newest first; `next` makes it one page of more. */
function page(ids, next) {
	return {
		statusCode: 200,
		body: { data: ids.map(post), has_more: Boolean(next), next_cursor: next ?? null },
	};
}

async function poll(answers, { staticData = {}, params = {}, mode = 'trigger' } = {}) {
	const http = stubHttp(routes({ 'GET /v1/posts': answers }));
	const context = pollContext({ http, staticData, params, mode });
	const output = await node.poll.call(context);
	return { output, calls: http.calls, staticData };
}

const ids = (output) => output[0].map((item) => item.json.id);

describe('PostDodo New Post Trigger', () => {
	it('is a polling trigger described by the catalogue', () => {
		const { description } = node;
		assert.equal(description.polling, true);
		assert.deepEqual(description.inputs, []);
		assert.equal(description.credentials[0].name, 'postDodoApi');
		const poll = catalogueModule.pollingTrigger('new_post');
		assert.equal(description.description, poll.description);
		const status = description.properties.find((p) => p.name === 'status');
		assert.equal(status.default, '');
		assert.deepEqual(status.options[0], { name: 'Any Status', value: '' });
		assert.ok(status.options.some((o) => o.value === 'published'));
	});

	it('fires nothing on the first poll and remembers the posts that exist', async () => {
		const { output, calls, staticData } = await poll([page([3, 2, 1])]);
		assert.equal(output, null);
		assert.deepEqual(staticData.seen, ['post_3', 'post_2', 'post_1']);
		assert.equal(calls[0].qs.limit, 100);
	});

	it('emits each new post once, oldest first, then nothing', async () => {
		const staticData = { seen: ['post_2', 'post_1'], status: '' };
		const first = await poll([page([4, 3, 2, 1])], { staticData });
		assert.deepEqual(ids(first.output), ['post_3', 'post_4']);
		assert.equal(first.calls[0].url, 'http://127.0.0.1:8080/v1/posts');
		assert.equal(first.calls[0].qs.limit, catalogueModule.pollingTrigger('new_post').request.qs.limit);
		const again = await poll([page([4, 3, 2, 1])], { staticData });
		assert.equal(again.output, null);
	});

	it('pages back until it meets a post it has seen', async () => {
		const staticData = { seen: ['post_1'], status: '' };
		const { output, calls } = await poll([page([5, 4], 'c1'), page([3, 2], 'c2'), page([1])], { staticData });
		assert.deepEqual(ids(output), ['post_2', 'post_3', 'post_4', 'post_5']);
		assert.deepEqual(
			calls.map((c) => c.qs.cursor),
			[undefined, 'c1', 'c2'],
		);
	});

	it('filters by status, and starts remembering afresh when the filter changes', async () => {
		const staticData = { seen: ['post_1'], status: '' };
		const { output, calls } = await poll([page([2, 1])], { staticData, params: { status: 'published' } });
		assert.equal(output, null);
		assert.equal(calls[0].qs.status, 'published');
		assert.equal(staticData.status, 'published');
		const next = await poll([page([3, 2, 1])], { staticData, params: { status: 'published' } });
		assert.deepEqual(ids(next.output), ['post_3']);
	});

	it('shows the newest post in a manual test run without touching what it remembers', async () => {
		const staticData = { seen: ['post_1'], status: '' };
		const { output, calls } = await poll([page([9])], { staticData, mode: 'manual' });
		assert.deepEqual(ids(output), ['post_9']);
		assert.equal(calls[0].qs.limit, 1);
		assert.deepEqual(staticData.seen, ['post_1']);
	});

	it('forgets the oldest ids beyond a thousand', async () => {
		const staticData = { seen: Array.from({ length: 1000 }, (_, i) => `old_${i}`), status: '' };
		await poll([page([2, 1])], { staticData });
		assert.equal(staticData.seen.length, 1000);
		assert.deepEqual(staticData.seen.slice(0, 2), ['post_2', 'post_1']);
	});

	it('fails with the reason when PostDodo cannot be reached', async () => {
		const down = () => {
			throw n8nNetworkError();
		};
		await assert.rejects(poll(down, { staticData: { seen: [], status: '' } }), (error) => {
			assert.ok(error instanceof n8nWorkflow.NodeApiError);
			assert.equal(error.message, 'Could not reach PostDodo at http://127.0.0.1:8080');
			return true;
		});
	});
});
