// The nodes against a real `postdodo serve` (sandbox accounts): create/list/cancel posts, register the
// trigger's endpoint, receive a real signed post.published delivery and hand it to webhook().
// Skipped when no `postdodo` command is found (POSTDODO_BIN, ../../.venv/bin/postdodo, or PATH).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { executeContext, hookContext, loadOptionsContext, packageRoot, PostDodo, PostDodoTrigger, webhookContext } from './helpers.mjs';

function findPostdodo() {
	const candidates = [process.env.POSTDODO_BIN, join(packageRoot, '..', '..', '.venv', 'bin', 'postdodo')];
	for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
	const which = spawnSync('sh', ['-c', 'command -v postdodo'], { encoding: 'utf8' });
	return which.status === 0 ? which.stdout.trim() : undefined;
}

const postdodo = findPostdodo();

async function freePort() {
	const server = createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
}

async function until(what, check, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** helpers.httpRequestWithAuthentication over real HTTP, applying the credential as n8n would. */
function realHttp(apiKey) {
	const calls = [];
	async function httpRequestWithAuthentication(_credentialName, options) {
		calls.push(options);
		const url = new URL(options.url);
		for (const [name, value] of Object.entries(options.qs ?? {})) url.searchParams.set(name, String(value));
		const headers = { ...options.headers, Authorization: `Bearer ${apiKey}` };
		if (options.body !== undefined) headers['Content-Type'] = 'application/json';
		const response = await fetch(url, {
			method: options.method,
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
		});
		const text = await response.text();
		let body = text;
		try {
			body = JSON.parse(text);
		} catch {
			// keep text
		}
		return { statusCode: response.status, headers: Object.fromEntries(response.headers), body };
	}
	return { calls, httpRequestWithAuthentication };
}

describe('against a live postdodo serve', { skip: !postdodo && 'no postdodo command found' }, () => {
	let server;
	let workdir;
	let apiKey;
	let credentials;
	let receiver;
	const deliveries = [];
	let receiverUrl;

	before(async () => {
		workdir = mkdtempSync(join(tmpdir(), 'postdodo-n8n-'));
		const port = await freePort();
		const env = { ...process.env, POSTDODO_WEBHOOK_ALLOW_PRIVATE: '1' };
		for (const name of ['POSTDODO_DATABASE_URL', 'POSTDODO_REDIS_URL']) delete env[name];
		server = spawn(postdodo, ['serve', '--port', String(port)], { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		server.stdout.on('data', (chunk) => (output += chunk));
		server.stderr.on('data', (chunk) => (output += chunk));
		await until('postdodo serve to listen', () => /listening on/.test(output) || server.exitCode !== null, 60_000);
		assert.equal(server.exitCode, null, output);
		apiKey = /(pd_test_[A-Za-z0-9_-]+)/.exec(output)[1];
		credentials = { baseUrl: `http://127.0.0.1:${port}`, apiKey };

		receiver = createServer((req, res) => {
			const chunks = [];
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				deliveries.push({ headers: req.headers, rawBody: Buffer.concat(chunks) });
				res.writeHead(200).end('ok');
			});
		});
		await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		receiverUrl = `http://127.0.0.1:${receiver.address().port}/webhook/live-test/webhook`;
	});

	after(async () => {
		if (server && server.exitCode === null) {
			server.kill('SIGTERM');
			await until('postdodo serve to stop', () => server.exitCode !== null || server.signalCode !== null, 10_000).catch(() =>
				server.kill('SIGKILL'),
			);
		}
		if (receiver) await new Promise((resolve) => receiver.close(resolve));
		if (workdir) rmSync(workdir, { recursive: true, force: true });
	});

	it('runs a whole flow: accounts, trigger registration, post, signed delivery, idempotent replay, cancel', async () => {
		const node = new PostDodo();
		const trigger = new PostDodoTrigger();
		const http = realHttp(apiKey);

		const options = await node.methods.loadOptions.getAccounts.call(loadOptionsContext({ http, credentials }));
		assert.ok(options.length >= 2);
		const bluesky = options.find((o) => / \(bluesky @/.test(o.name));
		assert.ok(bluesky, JSON.stringify(options));

		const staticData = {};
		const hooks = trigger.webhookMethods.default;
		const hook = () => hookContext({ http, credentials, staticData, webhookUrl: receiverUrl, events: ['post.published'] });
		assert.equal(await hooks.checkExists.call(hook()), false);
		assert.equal(await hooks.create.call(hook()), true);
		assert.match(staticData.secret, /^whsec_/);
		assert.equal(await hooks.checkExists.call(hook()), true);

		const params = {
			resource: 'post',
			operation: 'create',
			caption: 'Hello from the n8n node test',
			accountIds: [bluesky.value],
			scheduledAt: '',
			media: [],
			idempotencyKey: '',
		};
		const run = (p, extra = {}) => node.execute.call(executeContext({ params: p, http, credentials, ...extra }));
		const [[created]] = await run(params);
		assert.equal(created.json.status, 'publishing');
		const [[replayed]] = await run(params);
		assert.equal(replayed.json.id, created.json.id, 'same execution and item: the API replays the first post');

		const delivery = await until('a post.published delivery', () =>
			deliveries.find((d) => JSON.parse(d.rawBody.toString()).event === 'post.published'),
		);
		const context = webhookContext({ rawBody: delivery.rawBody, headers: delivery.headers, events: ['post.published'], staticData });
		const result = await trigger.webhook.call(context);
		assert.equal(context.response.statusCode, undefined, context.response.body);
		const item = result.workflowData[0][0].json;
		assert.equal(item.event, 'post.published');
		assert.equal(item.post_id, created.json.id);
		assert.equal(item.account_id, bluesky.value);
		assert.match(item.permalink, /^https:\/\//);

		const tampered = webhookContext({
			rawBody: Buffer.concat([delivery.rawBody, Buffer.from(' ')]),
			headers: delivery.headers,
			staticData,
		});
		await trigger.webhook.call(tampered);
		assert.equal(tampered.response.statusCode, 401);

		const [[got]] = await run({ resource: 'post', operation: 'get', postId: created.json.id });
		assert.equal(got.json.id, created.json.id);
		const [listed] = await run({ resource: 'post', operation: 'getAll', returnAll: true, filters: { accountId: bluesky.value } });
		assert.ok(listed.some((i) => i.json.id === created.json.id));

		const scheduled = { ...params, scheduledAt: '2031-01-01T09:00:00', idempotencyKey: 'live-scheduled' };
		const [[later]] = await run(scheduled, { timezone: 'Europe/Paris' });
		assert.equal(later.json.status, 'scheduled');
		assert.equal(later.json.scheduled_at, '2031-01-01T08:00:00Z');
		const [[canceled]] = await run({ resource: 'post', operation: 'cancel', postId: later.json.id });
		assert.equal(canceled.json.status, 'canceled');
		const [[again]] = await run({ resource: 'post', operation: 'cancel', postId: later.json.id }, { continueOnFail: true });
		assert.match(again.json.error, /\[conflict\]/);

		assert.equal(await hooks.delete.call(hook()), true);
		assert.deepEqual(staticData, {});
		assert.equal(await hooks.checkExists.call(hook()), false);
	});
});
