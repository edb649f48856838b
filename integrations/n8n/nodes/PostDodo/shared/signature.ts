import { createHmac, timingSafeEqual } from 'crypto';

/**
 * Standard Webhooks `v1` verification of a PostDodo delivery, the same rules as the Python
 * `postdodo_connect.signing.verify`: HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, keyed by the
 * base64 bytes after `whsec_`, compared in constant time, timestamp within ±tolerance seconds.
 */

export const DEFAULT_TOLERANCE = 300;
const SECRET_PREFIX = 'whsec_';
const BRANDED = ['x-postdodo-id', 'x-postdodo-timestamp', 'x-postdodo-signature'];
const STANDARD = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
const TIMESTAMP = /^[0-9]{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_ID_LENGTH = 256;

export type Failure = 'missing_header' | 'malformed_header' | 'bad_signature' | 'stale' | 'future' | 'no_secret';

export type Verification = { ok: true; eventId: string; timestamp: number } | { ok: false; reason: Failure; message: string };

type Headers = Record<string, string | string[] | undefined>;

function decodeBase64(text: string): Buffer | undefined {
	if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
	return Buffer.from(text, 'base64');
}

/** The HMAC key inside a `whsec_` secret (prefix optional). */
export function decodeSecret(secret: string): Buffer | undefined {
	let text = secret.trim();
	if (text.startsWith(SECRET_PREFIX)) text = text.slice(SECRET_PREFIX.length);
	const key = decodeBase64(text);
	return key && key.length > 0 ? key : undefined;
}

/** The `v1,<base64>` signature of one delivery. */
export function sign(secret: string, eventId: string, timestamp: number, body: Buffer | string): string {
	const key = decodeSecret(secret);
	if (!key) throw new Error('webhook secret is not valid base64 (expected whsec_<base64>)');
	return `v1,${digest(key, eventId, timestamp, toBuffer(body)).toString('base64')}`;
}

function toBuffer(body: Buffer | string): Buffer {
	return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function digest(key: Buffer, eventId: string, timestamp: number, body: Buffer): Buffer {
	return createHmac('sha256', key).update(`${eventId}.${timestamp}.`, 'utf8').update(body).digest();
}

function fail(reason: Failure, message: string): Verification {
	return { ok: false, reason, message };
}

function headerValue(headers: Headers, name: string): string | undefined {
	for (const [key, value] of Object.entries(headers)) {
		if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value;
	}
	return undefined;
}

/** Check a delivery; never throws. `now` is Unix seconds (defaults to the clock). */
export function verify(
	secrets: string | string[],
	headers: Headers,
	body: Buffer | string,
	options: { tolerance?: number; now?: number } = {},
): Verification {
	const keys = (Array.isArray(secrets) ? secrets : [secrets])
		.filter((s) => typeof s === 'string' && s !== '')
		.map(decodeSecret)
		.filter((k): k is Buffer => k !== undefined);
	if (keys.length === 0) return fail('no_secret', 'no webhook secret is stored for this trigger');

	// The branded names win when any is present, so a proxy adding webhook-* cannot mix the two sets.
	const names = BRANDED.some((n) => headerValue(headers, n) !== undefined) ? BRANDED : STANDARD;
	const values: string[] = [];
	for (const name of names) {
		const value = headerValue(headers, name);
		if (value === undefined || value.trim() === '') return fail('missing_header', `missing header ${name}`);
		values.push(value.trim());
	}
	const [eventId, rawTimestamp, rawSignatures] = values;
	if (eventId.length > MAX_ID_LENGTH) return fail('malformed_header', 'event id header is too long');
	if (!TIMESTAMP.test(rawTimestamp)) return fail('malformed_header', 'timestamp header must be integer Unix seconds');
	const timestamp = Number(rawTimestamp);

	const candidates: Buffer[] = [];
	for (const entry of rawSignatures.split(/\s+/)) {
		const comma = entry.indexOf(',');
		if (comma <= 0 || comma === entry.length - 1) {
			return fail('malformed_header', 'signature entries must look like v1,<base64>');
		}
		if (entry.slice(0, comma) !== 'v1') continue; // other schemes are skipped, not fatal
		const decoded = decodeBase64(entry.slice(comma + 1));
		if (!decoded) return fail('malformed_header', 'a v1 signature is not valid base64');
		candidates.push(decoded);
	}

	const raw = toBuffer(body);
	// Standard Webhooks signs text: a genuine sender never sends bytes that are not UTF-8.
	if (!Buffer.from(raw.toString('utf8'), 'utf8').equals(raw)) return fail('bad_signature', 'body is not valid UTF-8');
	const expected = keys.map((key) => digest(key, eventId, timestamp, raw));
	// Every pair is compared, so the time taken does not tell which one matched.
	let matched = false;
	for (const candidate of candidates) {
		for (const mac of expected) {
			const same = candidate.length === mac.length && timingSafeEqual(candidate, mac);
			matched = same || matched;
		}
	}
	if (!matched) return fail('bad_signature', 'no signature matches the endpoint secret');

	const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
	const current = options.now ?? Math.floor(Date.now() / 1000);
	if (current - timestamp > tolerance) return fail('stale', `timestamp is more than ${tolerance} s in the past`);
	if (timestamp - current > tolerance) return fail('future', `timestamp is more than ${tolerance} s in the future`);
	return { ok: true, eventId, timestamp };
}
