import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IPollFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const CREDENTIAL = 'postDodoApi';

type Context = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions | IPollFunctions;

export interface ApiRequest {
	method: IHttpRequestMethods;
	path: string;
	body?: IDataObject;
	qs?: IDataObject;
	headers?: Record<string, string>;
	itemIndex?: number;
}

export interface ApiResponse {
	statusCode: number;
	body: IDataObject;
}

interface FullResponse {
	statusCode?: number;
	status?: number;
	body?: unknown;
	headers?: Record<string, unknown>;
}

/**
 * A base URL as the API's root: trimmed, without trailing slashes or a pasted `/v1` (with or
 * without its own trailing slash), so `https://pd.example.com`, `.../` and `.../v1/` all work.
 */
export function apiRoot(raw: unknown): string {
	return String(raw ?? '')
		.trim()
		.replace(/\/+$/, '')
		.replace(/\/v1$/i, '')
		.replace(/\/+$/, '');
}

/** The API's base URL from the credentials (see apiRoot). */
export async function baseUrl(this: Context): Promise<string> {
	const credentials = await this.getCredentials(CREDENTIAL);
	return apiRoot(credentials.baseUrl);
}

/** A URL fit for an error message: any user:password@ part is dropped. */
export function shownUrl(url: string): string {
	return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function parseBody(raw: unknown): unknown {
	if (typeof raw === 'string' && raw.trim() !== '') {
		try {
			return JSON.parse(raw);
		} catch {
			return raw;
		}
	}
	if (raw instanceof Uint8Array && raw.length > 0) return parseBody(Buffer.from(raw).toString('utf8'));
	return raw;
}

/** One API call; any answer that is not a JSON object with a 2xx status becomes a NodeApiError. */
export async function apiRequest(this: Context, request: ApiRequest): Promise<ApiResponse> {
	const url = `${await baseUrl.call(this)}${request.path}`;
	const options: IHttpRequestOptions = {
		method: request.method,
		url,
		json: true,
		qs: request.qs,
		headers: { Accept: 'application/json', ...(request.headers ?? {}) },
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (request.body !== undefined) options.body = request.body;
	let response: FullResponse;
	try {
		response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			CREDENTIAL,
			options,
		)) as FullResponse;
	} catch (error) {
		throw requestFailed.call(this, error, request.method, url, request.itemIndex);
	}
	const statusCode = Number(response?.statusCode ?? response?.status ?? 0);
	const body = parseBody(response?.body);
	const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
	if (statusCode >= 200 && statusCode < 300 && isObject) {
		return { statusCode, body: body as IDataObject };
	}
	throw apiError.call(this, statusCode, body, request.method, url, request.itemIndex);
}

interface Cause {
	message?: string;
	code?: string;
	response?: { status?: number; statusCode?: number; data?: unknown; body?: unknown };
}

/**
 * What went wrong when the request itself failed. Real n8n wraps a network failure in a NodeApiError
 * (whose constructor hands an existing NodeApiError back unchanged), so the original error is read
 * from its `cause` and a new error is built that names PostDodo, the URL and the reason.
 */
export function requestFailed(
	this: Context,
	error: unknown,
	method: string,
	url: string,
	itemIndex?: number,
): NodeApiError {
	const wrapped = error instanceof NodeApiError;
	const cause = ((wrapped && (error as Error).cause) || error) as Cause;
	// An HTTP answer that n8n turned into an exception anyway: describe the answer.
	const answer = cause?.response;
	const status = Number(answer?.status ?? answer?.statusCode ?? 0);
	if (status) return apiError.call(this, status, parseBody(answer?.data ?? answer?.body), method, url, itemIndex);

	const messages = [cause?.message, (error as NodeApiError)?.messages?.[0], (error as Error)?.message];
	let reason = String(messages.find((m) => typeof m === 'string' && m.trim() !== '') ?? 'no answer');
	const code = cause?.code ?? (error as Cause)?.code;
	if (code && !reason.includes(code)) reason = `${reason} (${code})`;
	const where = shownUrl(url);
	const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]+/i.exec(where)?.[0] ?? where;
	// No `code` on the response object: n8n would replace our message with its generic one for it.
	return new NodeApiError(this.getNode(), { message: reason } as JsonObject, {
		message: `Could not reach PostDodo at ${origin}`,
		description: `${method} ${where} failed: ${reason}. Check the Base URL of the PostDodo credentials and that the API is running.`,
		itemIndex,
	});
}

/**
 * A NodeApiError for an answer PostDodo refused: the message is the API's message and code, the
 * description (which n8n shows first in some places, e.g. activation) repeats the message and adds
 * the parameter, field problems, request id and the request that failed.
 */
export function apiError(
	this: Context,
	statusCode: number,
	body: unknown,
	method: string,
	url: string,
	itemIndex?: number,
): NodeApiError {
	const where = `${method} ${shownUrl(url)}`;
	const error = (body as { error?: IDataObject } | undefined)?.error;
	if (error && typeof error === 'object') {
		const code = String(error.code ?? statusCode);
		const message = String(error.message ?? 'PostDodo refused the request');
		const details = Array.isArray(error.details) ? (error.details as IDataObject[]) : [];
		const lines = [`${message} (${code}, HTTP ${statusCode})`];
		if (error.param) lines.push(`Parameter: ${String(error.param)}`);
		for (const d of details) {
			const where = [d.platform, d.field].filter(Boolean).join(' ');
			lines.push(`${where}${where ? ': ' : ''}${String(d.message ?? '')}`);
		}
		if (error.request_id) lines.push(`Request ID: ${String(error.request_id)}`);
		lines.push(`Request: ${where}`);
		return new NodeApiError(this.getNode(), { ...(body as JsonObject), httpCode: String(statusCode) }, {
			message: `${message} [${code}]`,
			description: lines.join('\n'),
			httpCode: String(statusCode),
			itemIndex,
		});
	}
	// Not our error format: a proxy, a login page, or a wrong base URL (not the API root).
	const text = typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body ?? null).slice(0, 200);
	const ok = statusCode >= 200 && statusCode < 300;
	return new NodeApiError(this.getNode(), { httpCode: String(statusCode), body: text } as JsonObject, {
		message: ok
			? `PostDodo did not answer with JSON; check the Base URL of the credentials`
			: `PostDodo answered HTTP ${statusCode}, not a PostDodo error; check the Base URL of the credentials`,
		description: `${where} answered HTTP ${statusCode}: ${text}`,
		httpCode: statusCode ? String(statusCode) : undefined,
		itemIndex,
	});
}
