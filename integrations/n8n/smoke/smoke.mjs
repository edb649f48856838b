// The smoke test proper (started by ../smoke.sh): a real n8n with the packed node, a real `postdodo serve`,
// and assertions on the API's side. Prints how long each phase took. Exits non-zero on the first failure.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { children, freePort, notes, phase, start, stop, timings, until } from './harness.mjs';
import { CREDENTIAL, FLAKY, ids, LOOP_CAPTION, RETRIED_CAPTION, workflows, WRONG_KEY } from './workflows.mjs';

const run = promisify(execFile);
const { values: args } = parseArgs({
	options: {
		n8n: { type: 'string' },
		modules: { type: 'string' },
		postdodo: { type: 'string' },
		tarball: { type: 'string' },
		work: { type: 'string' },
	},
});
for (const name of ['n8n', 'modules', 'postdodo', 'tarball', 'work']) assert.ok(args[name], `--${name} is required`);

// ---------------------------------------------------------------------------------------------------------
// postdodo serve

const work = args.work;
const apiDir = join(work, 'postdodo');
mkdirSync(apiDir, { recursive: true });
const apiPort = await freePort();
const apiUrl = `http://127.0.0.1:${apiPort}`;
let apiKey;

async function api(method, path, body) {
	const response = await fetch(`${apiUrl}${path}`, {
		method,
		headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
	return JSON.parse(text);
}

/**
 * A proxy in front of the API that forwards everything, but drops the connection instead of answering
 * the first create of RETRIED_CAPTION: the API has the post, n8n sees a network error and retries.
 */
const flaky = { creates: [] };
const proxy = createServer((req, res) => {
	const chunks = [];
	req.on('data', (chunk) => chunks.push(chunk));
	req.on('end', async () => {
		const body = Buffer.concat(chunks);
		const headers = { ...req.headers };
		delete headers.host;
		delete headers['content-length'];
		const answer = await fetch(`${apiUrl}${req.url}`, {
			method: req.method,
			headers,
			body: body.length ? body : undefined,
		});
		const text = await answer.text();
		if (req.method === 'POST' && req.url === '/v1/posts' && body.includes(RETRIED_CAPTION)) {
			flaky.creates.push({ key: req.headers['idempotency-key'], status: answer.status, replayed: answer.headers.get('idempotent-replayed') });
			if (flaky.creates.length === 1) {
				req.socket.destroy();
				return;
			}
		}
		res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
		res.end(text);
	});
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;

const apiEnv = { ...process.env, POSTDODO_WEBHOOK_ALLOW_PRIVATE: '1' };
for (const name of ['POSTDODO_DATABASE_URL', 'POSTDODO_REDIS_URL']) delete apiEnv[name];
const server = start(args.postdodo, ['serve', '--port', String(apiPort)], { cwd: apiDir, env: apiEnv });

// ---------------------------------------------------------------------------------------------------------
// n8n

// n8n keeps its data in a throwaway PostgreSQL database: with PostgreSQL n8n never loads sqlite3, so the
// install can skip every install script (sqlite3 would compile its native binding for minutes).
const { Client } = createRequire(join(args.modules, 'n8n', 'package.json'))('pg');
const serverUrl = new URL(
	(process.env.POSTDODO_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres').replace(/^postgresql\+\w+:/, 'postgresql:'),
);
serverUrl.pathname = '/postgres'; // the maintenance database: the named one may not exist yet
const n8nDatabase = `n8n_smoke_${process.pid}_${randomBytes(4).toString('hex')}`;
async function admin(sql) {
	const client = new Client({ connectionString: serverUrl.href });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

const n8nPort = await freePort();
const brokerPort = await freePort(); // n8n's task-runner broker (5679 by default, taken when two n8n run)
const n8nUrl = `http://127.0.0.1:${n8nPort}`;
const userFolder = join(work, 'n8n');
const n8nEnv = {
	...process.env,
	N8N_USER_FOLDER: userFolder,
	N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
	DB_TYPE: 'postgresdb',
	DB_POSTGRESDB_HOST: serverUrl.hostname,
	DB_POSTGRESDB_PORT: serverUrl.port || '5432',
	DB_POSTGRESDB_USER: decodeURIComponent(serverUrl.username || 'postgres'),
	DB_POSTGRESDB_PASSWORD: decodeURIComponent(serverUrl.password),
	DB_POSTGRESDB_DATABASE: n8nDatabase,
	N8N_PORT: String(n8nPort),
	N8N_RUNNERS_BROKER_PORT: String(brokerPort),
	N8N_LISTEN_ADDRESS: '127.0.0.1',
	N8N_HOST: '127.0.0.1',
	WEBHOOK_URL: `${n8nUrl}/`,
	N8N_SECURE_COOKIE: 'false',
	N8N_DIAGNOSTICS_ENABLED: 'false',
	N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
	N8N_TEMPLATES_ENABLED: 'false',
	N8N_PERSONALIZATION_ENABLED: 'false',
	N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
	N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
	N8N_LOG_LEVEL: 'warn',
	GENERIC_TIMEZONE: 'UTC',
	EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
	NO_COLOR: '1',
};

async function n8nCli(...argv) {
	const env = typeof argv.at(-1) === 'object' ? { ...n8nEnv, ...argv.pop() } : n8nEnv;
	try {
		return await run(args.n8n, argv, { env, cwd: work, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
	} catch (error) {
		throw new Error(`n8n ${argv.join(' ')} failed (${error.code}):\n${error.stdout}\n${error.stderr}`);
	}
}

/** The output items of one node in an execution's run data. */
function nodeOutput(execution, node) {
	const runs = execution.data.resultData.runData[node];
	assert.ok(runs, `${node} did not run`);
	return runs[0].data.main[0].map((item) => item.json);
}

let cookie = '';
async function rest(method, path, body, expectFailure = false) {
	const response = await fetch(`${n8nUrl}/rest${path}`, {
		method,
		headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}), 'browser-id': 'smoke' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const setCookie = response.headers.get('set-cookie');
	if (setCookie) cookie = setCookie.split(';')[0];
	const text = await response.text();
	if (expectFailure) return { status: response.status, body: JSON.parse(text) };
	assert.ok(response.ok, `n8n ${method} /rest${path} answered ${response.status}: ${text}`);
	const json = JSON.parse(text);
	return json.data ?? json;
}

let n8n;
try {
	const accountId = await phase('postdodo serve starts (demo key, sandbox accounts)', async () => {
		await until('postdodo serve to listen', () => /listening on/.test(server.output) || server.exitCode !== null);
		assert.equal(server.exitCode, null, server.output);
		apiKey = /(pd_test_[A-Za-z0-9_-]+)/.exec(server.output)?.[1];
		assert.ok(apiKey, `no demo key in:\n${server.output}`);
		const { data } = await api('GET', '/v1/accounts');
		const bluesky = data.find((account) => account.platform === 'bluesky');
		assert.ok(bluesky, JSON.stringify(data));
		return bluesky.id;
	});

	await phase(`n8n's database ${n8nDatabase} created`, () => admin(`CREATE DATABASE ${n8nDatabase}`));

	await phase('packed node installed as n8n installs a community package', async () => {
		// What n8n 2.8.4 does (CommunityPackagesService.downloadPackage): unpack into ~/.n8n/nodes/node_modules/<name>,
		// drop dev/peer/optional dependencies, `npm install` there with its flags, record it in nodes/package.json.
		const nodesDir = join(userFolder, '.n8n', 'nodes');
		const packageDir = join(nodesDir, 'node_modules', 'n8n-nodes-postdodo');
		mkdirSync(packageDir, { recursive: true });
		await run('tar', ['-xzf', args.tarball, '-C', packageDir, '--strip-components=1']);
		const manifestPath = join(packageDir, 'package.json');
		const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(readFileSync(manifestPath, 'utf8'));
		void devDependencies, peerDependencies, optionalDependencies;
		writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
		await run(
			'npm',
			['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'],
			{ cwd: packageDir },
		);
		writeFileSync(
			join(nodesDir, 'package.json'),
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [manifest.name]: manifest.version } }, null, 2),
		);
	});

	await phase('n8n import:credentials and import:workflow (base URL given with /v1/)', async () => {
		const credentialFile = join(work, 'credentials.json');
		const data = { baseUrl: `${apiUrl}/v1/`, apiKey };
		const wrong = { baseUrl: apiUrl, apiKey: 'pd_test_not-a-key' };
		writeFileSync(
			credentialFile,
			JSON.stringify([
				{ ...CREDENTIAL, type: 'postDodoApi', data },
				{ ...WRONG_KEY, type: 'postDodoApi', data: wrong },
				{ ...FLAKY, type: 'postDodoApi', data: { baseUrl: proxyUrl, apiKey } },
			]),
		);
		await n8nCli('import:credentials', `--input=${credentialFile}`);
		const workflowFile = join(work, 'workflows.json');
		writeFileSync(workflowFile, JSON.stringify(workflows(accountId)));
		await n8nCli('import:workflow', `--input=${workflowFile}`);
	});

	const created = await phase('n8n execute: Create A, Create B, Get, List; a Create with Retry On Fail; a Create in a loop', async () => {
		// `execute` prints the run through n8n's logger at level info, after other info lines.
		const { stdout } = await n8nCli('execute', `--id=${ids.create}`, '--rawOutput', { N8N_LOG_LEVEL: 'info' });
		const begin = stdout.search(/^\{$/m);
		assert.ok(begin >= 0, `no execution JSON in the output of n8n execute:\n${stdout}`);
		const execution = JSON.parse(stdout.slice(begin, stdout.search(/^\}$/m) + 1));
		const [a] = nodeOutput(execution, 'Create A');
		const [b] = nodeOutput(execution, 'Create B');
		assert.match(a.id, /^post_/);
		assert.match(b.id, /^post_/);
		// The bug this guards against: both nodes sent the same key, so B replayed A's post.
		assert.notEqual(a.id, b.id, 'the two Create nodes got the same post (same Idempotency-Key)');
		const [got] = nodeOutput(execution, 'Get');
		assert.equal(got.id, b.id);
		const listed = nodeOutput(execution, 'List').map((post) => post.id);
		assert.ok(listed.includes(a.id) && listed.includes(b.id), `List did not return both posts: ${listed}`);
		const loopRuns = execution.data.resultData.runData['Create (loop)'] ?? [];
		assert.equal(loopRuns.length, 2, 'Create (loop) did not run twice');
		const loop = loopRuns.map((run) => run.data.main[0][0].json);
		return { a, b, retried: nodeOutput(execution, 'Create (retried)')[0], loop };
	});

	await phase('Retry On Fail after a lost answer: same Idempotency-Key, one post on the API', async () => {
		assert.equal(flaky.creates.length, 2, JSON.stringify(flaky.creates));
		const [first, second] = flaky.creates;
		assert.equal(first.status, 201);
		assert.equal(second.key, first.key, 'the retry sent another Idempotency-Key');
		assert.equal(second.replayed, 'true', JSON.stringify(second));
		const { data } = await api('GET', '/v1/posts?limit=100');
		const mine = data.filter((post) => post.caption === RETRIED_CAPTION);
		assert.deepEqual(
			mine.map((post) => post.id),
			[created.retried.id],
		);
	});

	await phase('API side: the posts of both Create nodes and of both loop passes exist and get published', async () => {
		for (const [post, caption] of [
			[created.a, 'n8n smoke A'],
			[created.b, 'n8n smoke B'],
			[created.loop[0], `${LOOP_CAPTION} 1`],
			[created.loop[1], `${LOOP_CAPTION} 2`],
		]) {
			const stored = await until(`post ${post.id} published`, async () => {
				const found = await api('GET', `/v1/posts/${post.id}`);
				return found.status === 'published' ? found : undefined;
			});
			assert.equal(stored.caption, caption);
		}
	});

	await phase('n8n start (loads the community package)', async () => {
		n8n = start(args.n8n, ['start'], { cwd: work, env: n8nEnv });
		await until(
			'n8n to answer /healthz/readiness',
			async () => n8n.exitCode === null && (await fetch(`${n8nUrl}/healthz/readiness`)).ok,
			180_000,
		).catch((error) => {
			throw new Error(`${error.message}\n${n8n.output}`);
		});
		// Readiness answers before the REST routes exist: wait until /rest answers something other than 404.
		await until('n8n REST routes', async () => (await fetch(`${n8nUrl}/rest/login`)).status !== 404, 60_000);
		await rest('POST', '/owner/setup', {
			email: 'smoke@postdodo.invalid',
			firstName: 'Smoke',
			lastName: 'Test',
			password: `Smoke-${randomBytes(8).toString('hex')}1`,
		});
	});

	await phase('credential test in n8n: Base URL ending in /v1/ passes, a wrong key fails', async () => {
		const test = (credential, data) =>
			rest('POST', '/credentials/test', { credentials: { ...credential, type: 'postDodoApi', ...(data ? { data } : {}) } });
		// As the editor sends it: the form's values (n8n fills in redacted secrets from the stored ones).
		const good = await test(CREDENTIAL, { baseUrl: `${apiUrl}/v1/`, apiKey });
		assert.equal(good.status, 'OK', JSON.stringify(good));
		const bad = await test(WRONG_KEY, { baseUrl: apiUrl, apiKey: 'pd_test_not-a-key' });
		assert.equal(bad.status, 'Error', JSON.stringify(bad));
	});

	await phase("activation with a wrong key fails with the API's message; nothing registered", async () => {
		const workflow = await rest('GET', `/workflows/${ids.refused}`);
		const { status, body } = await rest('POST', `/workflows/${ids.refused}/activate`, { versionId: workflow.versionId }, true);
		assert.ok(status >= 400, `activation answered ${status}: ${JSON.stringify(body)}`);
		assert.match(JSON.stringify(body), /invalid API key/, JSON.stringify(body));
		notes.push(`activation error as n8n reports it: ${body.message ?? JSON.stringify(body)}`);
		const { data } = await api('GET', '/v1/webhooks');
		assert.equal(data.length, 0, JSON.stringify(data));
	});

	await phase('activate the New Post polling trigger: its first poll remembers the posts of GET /v1/posts', async () => {
		const workflow = await rest('GET', `/workflows/${ids.newPost}`);
		await rest('POST', `/workflows/${ids.newPost}/activate`, { versionId: workflow.versionId });
		const { data: posts } = await api('GET', '/v1/posts?limit=100');
		const saved = await rest('GET', `/workflows/${ids.newPost}`);
		const seen = saved.staticData?.['node:PostDodo New Post']?.seen ?? [];
		assert.deepEqual(seen, posts.map((post) => post.id), JSON.stringify(saved.staticData));
		await rest('POST', `/workflows/${ids.newPost}/deactivate`, {});
	});

	const webhookUrl = `${n8nUrl}/webhook/${ids.webhook}/webhook`;
	const endpoint = await phase('activate the PostDodo Trigger: endpoint registered (GET /v1/webhooks)', async () => {
		const workflow = await rest('GET', `/workflows/${ids.trigger}`);
		await rest('POST', `/workflows/${ids.trigger}/activate`, { versionId: workflow.versionId });
		const { data } = await api('GET', '/v1/webhooks');
		const found = data.find((e) => e.url === webhookUrl);
		assert.ok(found, `no endpoint for ${webhookUrl} in ${JSON.stringify(data)}`);
		assert.equal(found.status, 'enabled');
		assert.deepEqual(found.events, ['post.published']);
		return found;
	});

	await phase('post.published reaches n8n: a signed delivery accepted, an execution started', async () => {
		const { data: accounts } = await api('GET', '/v1/accounts');
		const bluesky = accounts.find((account) => account.platform === 'bluesky');
		const post = await api('POST', '/v1/posts', { caption: 'n8n smoke: trigger', account_ids: [bluesky.id] });
		const delivery = await until('a delivery of post.published to n8n', async () => {
			const { data } = await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`);
			return data.find((d) => d.event === 'post.published' && d.status === 'delivered' && d.last_status_code === 200);
		});
		assert.ok(delivery);
		await until('an n8n execution of the trigger workflow with the post', async () => {
			const filter = encodeURIComponent(JSON.stringify({ workflowId: ids.trigger }));
			const list = await rest('GET', `/executions?filter=${filter}`);
			const results = list.results ?? list;
			if (!results.some((e) => e.status === 'success')) return false;
			const execution = await rest('GET', `/executions/${results[0].id}`);
			return JSON.stringify(execution).includes(post.id);
		});
	});

	await phase('deactivate: endpoint removed from the API', async () => {
		await rest('POST', `/workflows/${ids.trigger}/deactivate`, {});
		const { data } = await api('GET', '/v1/webhooks');
		assert.equal(
			data.some((e) => e.id === endpoint.id),
			false,
			`endpoint ${endpoint.id} is still registered`,
		);
	});
} catch (error) {
	console.error(`\nn8n smoke FAILED: ${error.stack ?? error}`);
	console.error(`\n--- postdodo serve output (tail)\n${server.output.slice(-4000)}`);
	if (n8n) console.error(`\n--- n8n output (tail)\n${n8n.output.slice(-6000)}`);
	process.exitCode = 1;
} finally {
	for (const child of children.reverse()) await stop(child);
	proxy.close();
	await admin(`DROP DATABASE IF EXISTS ${n8nDatabase} WITH (FORCE)`).catch((error) =>
		console.error(`could not drop ${n8nDatabase}: ${error.message}`),
	);
}

const total = timings.reduce((sum, [, seconds]) => sum + seconds, 0);
console.log('\n== n8n smoke timings');
for (const [name, seconds] of timings) console.log(`${seconds.toFixed(1).padStart(7)} s  ${name}`);
console.log(`${total.toFixed(1).padStart(7)} s  total after the install`);
for (const note of notes) console.log(note);
