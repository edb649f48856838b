'use strict';
// Talking to the PostDodo API: the base URL of a connection, the bearer header, and the one
// translation of the API's error body into Zapier errors.

/** The API root of a connection: no trailing slash, no `/v1` (people paste both). */
const apiRoot = (z, bundle) => {
  const raw = String((bundle.authData && bundle.authData.baseUrl) || '').trim();
  const root = raw.replace(/\/+$/, '').replace(/\/v1$/i, '');
  if (!/^https?:\/\/[^/\s]+/i.test(root)) {
    throw new z.errors.Error(
      `The API Base URL "${raw}" is not an http(s) URL. Use the public address of your PostDodo API, ` +
        'e.g. https://postdodo.example.com.',
      'invalid_base_url',
      400,
    );
  }
  return root;
};

/** An absolute API URL for a path such as `/v1/posts`. */
const apiUrl = (z, bundle, path) => `${apiRoot(z, bundle)}${path}`;

/** beforeRequest: the connection's key as a bearer token, JSON answers, our own 429 handling. */
const addAuthHeader = (request, z, bundle) => {
  request.headers = request.headers || {};
  const key = bundle.authData && bundle.authData.apiKey;
  if (key && !request.headers.Authorization) {
    request.headers.Authorization = `Bearer ${String(key).trim()}`;
  }
  if (!request.headers.Accept) request.headers.Accept = 'application/json';
  // let handleErrors see 429s, so the user reads the API's message and its Retry-After
  request.throwForThrottlingEarly = false;
  return request;
};

const errorBody = (response) => {
  let data = response.data;
  if (data === undefined) {
    try {
      data = JSON.parse(response.content);
    } catch (err) {
      data = undefined;
    }
  }
  return data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : null;
};

/** One readable line from the API's `{"error": {code, message, param, details, request_id}}`. */
const describeError = (error) => {
  let text = String(error.message || error.code || 'request failed');
  const details = Array.isArray(error.details) ? error.details : [];
  // the message already names the first problem; list the others so one run shows every fix needed
  const more = details
    .slice(1)
    .map((d) => `${d.field || 'body'}${d.platform ? ` (${d.platform})` : ''}: ${d.message || d.rule}`);
  if (more.length) text += `. Also: ${more.join('; ')}`;
  if (error.request_id) text += ` [request ${error.request_id}]`;
  return text;
};

const header = (response, name) =>
  response.headers && typeof response.headers.get === 'function' ? response.headers.get(name) : undefined;

/** Throw the z.errors.* of a 4xx/5xx answer (also when the request set skipThrowForStatus). */
const throwForError = (response, z) => {
  const status = response.status;
  if (status < 400) return response;

  const error = errorBody(response);
  // a 429 from a proxy in front of the API is still a reason to wait, not a configuration problem
  if (status === 429) {
    const retryAfter = parseInt(header(response, 'retry-after') || '', 10);
    const message = error ? describeError(error) : 'PostDodo is rate limiting this API key (HTTP 429)';
    throw new z.errors.ThrottledError(message, Number.isNaN(retryAfter) ? 60 : Math.max(1, retryAfter));
  }
  if (!error) {
    throw new z.errors.Error(
      `The server answered HTTP ${status} without a PostDodo error body; check the API Base URL ` +
        `(${response.request ? response.request.url : 'unknown URL'}).`,
      'not_postdodo',
      status,
    );
  }
  let message = describeError(error);
  if (header(response, 'idempotent-replayed') === 'true') {
    message +=
      ' (replayed: PostDodo answers a repeated Idempotency-Key with its first answer for 24 h; ' +
      'change the post or set a new Idempotency Key to try again)';
  }
  if (status === 401) {
    throw new z.errors.Error(
      `PostDodo refused the API key: ${message}. Create a new key (rotated keys stop at once) and reconnect.`,
      'AuthenticationError',
      401,
    );
  }
  throw new z.errors.Error(message, error.code || `http_${status}`, status);
};

/** afterResponse: every 4xx/5xx as a z.errors.* carrying the API's own message. */
const handleErrors = (response, z) => {
  // callers that asked to see some statuses themselves (404 on a search) still get our 401/429 errors
  if (response.skipThrowForStatus && response.status !== 401 && response.status !== 429) return response;
  return throwForError(response, z);
};

module.exports = { addAuthHeader, apiRoot, apiUrl, describeError, handleErrors, throwForError };
