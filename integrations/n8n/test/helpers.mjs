// Mocked n8n execution contexts: plain objects implementing the few `this.*` methods the nodes call.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const packageRoot = join(here, '..');
const require = createRequire(import.meta.url);

/** The built package (tests run against dist/, what n8n loads). */
export const { PostDodo } = require('../dist/nodes/PostDodo/PostDodo.node.js');
export const { PostDodoTrigger } = require('../dist/nodes/PostDodo/PostDodoTrigger.node.js');
export const { PostDodoNewPostTrigger } = require('../dist/nodes/PostDodo/PostDodoNewPostTrigger.node.js');
export const transport = require('../dist/nodes/PostDodo/shared/transport.js');
export const { PostDodoApi } = require('../dist/credentials/PostDodoApi.credentials.js');
export const signature = require('../dist/nodes/PostDodo/shared/signature.js');
export const values = require('../dist/nodes/PostDodo/shared/values.js');
export const catalogueModule = require('../dist/nodes/PostDodo/shared/catalogue.js');
export const n8nWorkflow = require('n8n-workflow');

/** Answers recorded from a real `postdodo serve` (see fixtures/api.json). */
export const recorded = JSON.parse(readFileSync(join(here, 'fixtures', 'api.json'), 'utf8'));

export const CREDENTIALS = { baseUrl: 'http://127.0.0.1:8080/', apiKey: 'pd_test_abc' };

export const NODE = {
	id: 'node-1',
	name: 'PostDodo',
	type: 'n8n-nodes-postdodo.postDodo',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

/**
 * A stub of helpers.httpRequestWithAuthentication. `route(options)` returns a recorded answer
 * ({statusCode, body}) or throws; every call is kept in `calls`.
 */
export function stubHttp(route) {
	const calls = [];
	async function httpRequestWithAuthentication(credentialName, options) {
		calls.push({ credentialName, ...options });
		const answer = await route(options, calls.length - 1);
		if (options.ignoreHttpStatusErrors !== true && answer.statusCode >= 400) {
			throw new Error(`HTTP ${answer.statusCode}`);
		}
		return options.returnFullResponse ? { headers: {}, ...answer } : answer.body;
	}
	return { calls, httpRequestWithAuthentication };
}

/** A route table: "METHOD /path" (path without query) -> answer, or a list of answers used in turn. */
export function routes(table) {
	const used = {};
	return (options) => {
		const path = new URL(options.url).pathname;
		const key = `${options.method} ${path}`;
		const entry = table[key];
		if (entry === undefined) throw new Error(`unexpected request ${key}`);
		if (Array.isArray(entry)) {
			used[key] = (used[key] ?? 0) + 1;
			return entry[Math.min(used[key], entry.length) - 1];
		}
		return typeof entry === 'function' ? entry(options) : entry;
	};
}

function parameterGetter(params, fallbackName) {
	return (name, itemIndex, fallback) => {
		const source = typeof params === 'function' ? params(itemIndex) : params;
		if (source[name] !== undefined) return source[name];
		if (fallback !== undefined) return fallback;
		throw new Error(`${fallbackName}: could not get parameter "${name}"`);
	};
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `this` of execute(). */
export function executeContext({
	params,
	items = [{ json: {} }],
	http,
	continueOnFail = false,
	timezone = 'UTC',
	executionId = 'exec-42',
	workflow = { id: 'wf-7', name: 'My workflow', active: true },
	credentials = CREDENTIALS,
	instanceId = 'instance-a',
	runIndex = 0,
	node = NODE,
}) {
	return {
		getInputData: () => items,
		getNodeParameter: parameterGetter(params, 'execute'),
		getNode: () => node,
		getCredentials: async () => credentials,
		getTimezone: () => timezone,
		getExecutionId: () => executionId,
		getInstanceId: () => instanceId,
		getWorkflowDataProxy: () => ({ $runIndex: runIndex }),
		getWorkflow: () => workflow,
		continueOnFail: () => continueOnFail,
		logger,
		helpers: { httpRequestWithAuthentication: http.httpRequestWithAuthentication },
	};
}

/**
 * What real n8n throws from helpers.httpRequest* when no answer came: n8n-core wraps the HTTP
 * client's error (an AxiosError with a `code`) in n8n-workflow's NodeApiError.
 */
export function n8nNetworkError(message = 'connect ECONNREFUSED 127.0.0.1:8080', code = 'ECONNREFUSED', response) {
	const cause = Object.assign(new Error(message), { name: 'AxiosError', code, isAxiosError: true });
	if (response) cause.response = response;
	return new n8nWorkflow.NodeApiError(NODE, cause);
}

/** `this` of poll(); `staticData` is kept by the caller between polls. */
export function pollContext({ http, params = {}, staticData = {}, mode = 'trigger', credentials = CREDENTIALS }) {
	return {
		staticData,
		getMode: () => mode,
		getActivationMode: () => 'activate',
		getNodeParameter: (name, fallback) => params[name] ?? fallback,
		getWorkflowStaticData: () => staticData,
		getNode: () => ({ ...NODE, name: 'PostDodo New Post', type: 'n8n-nodes-postdodo.postDodoNewPostTrigger' }),
		getCredentials: async () => credentials,
		logger,
		helpers: {
			httpRequestWithAuthentication: http.httpRequestWithAuthentication,
			returnJsonArray: (data) => [].concat(data).map((json) => ({ json })),
		},
	};
}

/** `this` of a loadOptions method. */
export function loadOptionsContext({ http, credentials = CREDENTIALS }) {
	return {
		getNode: () => NODE,
		getCredentials: async () => credentials,
		getNodeParameter: parameterGetter({}, 'loadOptions'),
		logger,
		helpers: { httpRequestWithAuthentication: http.httpRequestWithAuthentication },
	};
}

/** `this` of webhookMethods.default.*; `staticData` is kept by the caller between calls. */
export function hookContext({
	http,
	events = ['post.published'],
	webhookUrl = 'https://n8n.example.com/webhook/9f1c/webhook',
	staticData = {},
	credentials = CREDENTIALS,
	workflow = { id: 'wf-7', name: 'My workflow', active: true },
	mode = 'trigger',
}) {
	const warnings = [];
	return {
		staticData,
		warnings,
		getMode: () => mode,
		getActivationMode: () => 'activate',
		getNodeWebhookUrl: () => webhookUrl,
		getNodeParameter: parameterGetter({ events }, 'hook'),
		getWorkflowStaticData: () => staticData,
		getWorkflow: () => workflow,
		getNode: () => ({ ...NODE, name: 'PostDodo Trigger', type: 'n8n-nodes-postdodo.postDodoTrigger' }),
		getCredentials: async () => credentials,
		logger: { ...logger, warn: (message) => warnings.push(message) },
		helpers: { httpRequestWithAuthentication: http.httpRequestWithAuthentication },
	};
}

/** `this` of webhook(): a delivery with `rawBody` and `headers`; `response` records what was sent back. */
export function webhookContext({ rawBody, headers, events = ['post.published'], staticData = {} }) {
	const response = { statusCode: undefined, headers: undefined, body: undefined };
	const raw = rawBody === undefined ? undefined : Buffer.from(rawBody);
	let parsed = {};
	try {
		parsed = JSON.parse(String(rawBody));
	} catch {
		// the real request object holds whatever n8n parsed; the node reads rawBody only
	}
	const warnings = [];
	return {
		response,
		warnings,
		getRequestObject: () => ({ rawBody: raw, body: parsed, headers }),
		getResponseObject: () => ({
			writeHead(status, hdrs) {
				response.statusCode = status;
				response.headers = hdrs;
				return this;
			},
			end(body) {
				response.body = body;
			},
		}),
		getHeaderData: () => headers,
		getBodyData: () => parsed,
		getNodeParameter: parameterGetter({ events }, 'webhook'),
		getWorkflowStaticData: () => staticData,
		getNode: () => ({ ...NODE, name: 'PostDodo Trigger', type: 'n8n-nodes-postdodo.postDodoTrigger' }),
		logger: { ...logger, warn: (message) => warnings.push(message) },
		helpers: { returnJsonArray: (data) => [].concat(data).map((json) => ({ json })) },
	};
}

/** Delivery headers the way PostDodo sends them (branded and Standard Webhooks names). */
export function deliveryHeaders(secret, id, timestamp, body, { branded = true, standard = true } = {}) {
	const sig = signature.sign(secret, id, timestamp, body);
	const headers = {};
	if (branded) {
		Object.assign(headers, {
			'x-postdodo-id': id,
			'x-postdodo-timestamp': String(timestamp),
			'x-postdodo-signature': sig,
		});
	}
	if (standard) {
		Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sig });
	}
	return headers;
}
