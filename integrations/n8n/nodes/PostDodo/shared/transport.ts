import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const CREDENTIAL = 'postDodoApi';

type Context = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

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

/** The API's base URL from the credentials, without a trailing slash or a pasted /v1. */
export async function baseUrl(this: Context): Promise<string> {
	const credentials = await this.getCredentials(CREDENTIAL);
	return String(credentials.baseUrl ?? '')
		.trim()
		.replace(/\/+$/, '')
		.replace(/\/v1$/, '');
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
		throw new NodeApiError(this.getNode(), error as JsonObject, {
			message: `Could not reach PostDodo at ${url}`,
			description: `${request.method} ${url}: ${(error as Error)?.message ?? 'no answer'}`,
			itemIndex: request.itemIndex,
		});
	}
	const statusCode = Number(response?.statusCode ?? response?.status ?? 0);
	const body = parseBody(response?.body);
	const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
	if (statusCode >= 200 && statusCode < 300 && isObject) {
		return { statusCode, body: body as IDataObject };
	}
	throw apiError.call(this, statusCode, body, url, request.itemIndex);
}

/** A NodeApiError carrying the API's error code, message, field problems and request id. */
export function apiError(
	this: Context,
	statusCode: number,
	body: unknown,
	url: string,
	itemIndex?: number,
): NodeApiError {
	const error = (body as { error?: IDataObject } | undefined)?.error;
	if (error && typeof error === 'object') {
		const details = Array.isArray(error.details) ? (error.details as IDataObject[]) : [];
		const lines = details.map((d) =>
			[d.platform, d.field].filter(Boolean).join(' ') + (d.platform || d.field ? ': ' : '') + String(d.message ?? ''),
		);
		if (error.param) lines.unshift(`Parameter: ${error.param}`);
		if (error.request_id) lines.push(`Request ID: ${error.request_id}`);
		return new NodeApiError(this.getNode(), { ...(body as JsonObject), httpCode: String(statusCode) }, {
			message: `${String(error.message ?? 'PostDodo refused the request')} [${String(error.code ?? statusCode)}]`,
			description: lines.join('\n') || undefined,
			httpCode: String(statusCode),
			itemIndex,
		});
	}
	// Not our error format: a proxy, a login page, or a wrong base URL (not the API root).
	const text = typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body ?? null).slice(0, 200);
	return new NodeApiError(this.getNode(), { httpCode: String(statusCode), body: text } as JsonObject, {
		message:
			statusCode >= 200 && statusCode < 300
				? `PostDodo at ${url} did not answer with JSON; check the Base URL of the credentials`
				: `PostDodo at ${url} answered HTTP ${statusCode}`,
		description: text,
		httpCode: statusCode ? String(statusCode) : undefined,
		itemIndex,
	});
}
