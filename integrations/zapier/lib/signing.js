'use strict';
// Verify PostDodo webhook deliveries (Standard Webhooks "v1" scheme) with node's crypto only.
// Signed content: `${id}.${timestamp}.${rawBody}`, HMAC-SHA256 keyed by the base64-decoded part
// of the `whsec_` secret; the signature header holds space-separated `v1,<base64>` entries.

const crypto = require('crypto');

const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const DEFAULT_TOLERANCE = 300; // seconds either side of now
const MAX_ID_LENGTH = 256;
const BRANDED = ['x-postdodo-id', 'x-postdodo-timestamp', 'x-postdodo-signature'];
const STANDARD = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TIMESTAMP = /^[0-9]{1,15}$/;

class SignatureError extends Error {
  constructor(reason, message) {
    super(message);
    this.name = 'SignatureError';
    this.reason = reason; // missing_header | malformed_header | bad_signature | stale | future | bad_secret
  }
}

const strictBase64 = (text) => (BASE64.test(text) ? Buffer.from(text, 'base64') : null);

/** The HMAC key inside a `whsec_` secret (the prefix is optional). */
const decodeSecret = (secret) => {
  const text = String(secret || '')
    .trim()
    .replace(/^whsec_/, '');
  const key = text ? strictBase64(text) : null;
  if (!key) {
    // never echo the secret: messages end up in Zapier's logs
    throw new SignatureError('bad_secret', 'webhook secret is not valid base64 (expected whsec_<base64>)');
  }
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new SignatureError('bad_secret', `webhook secret decodes to ${key.length} bytes; 24 to 64 are required`);
  }
  return key;
};

const toBuffer = (body) => (Buffer.isBuffer(body) ? body : Buffer.from(body == null ? '' : String(body), 'utf8'));

const digest = (key, id, timestamp, body) =>
  crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(toBuffer(body)).digest();

/** The `v1,<base64>` signature of one delivery (used by tests and local tools). */
const sign = (secret, id, timestamp, body) =>
  `v1,${digest(decodeSecret(secret), id, timestamp, body).toString('base64')}`;

/**
 * Header names in lower case, without the `Http-` prefix Zapier puts on every header of
 * `bundle.rawRequest` but Content-Type and Content-Length.
 */
const normaliseHeaders = (headers) => {
  const out = {};
  for (const [name, value] of Object.entries(headers || {})) {
    out[
      String(name)
        .toLowerCase()
        .replace(/^http-/, '')
    ] = Array.isArray(value) ? value.join(' ') : value;
  }
  return out;
};

const readHeaders = (headers) => {
  const lowered = normaliseHeaders(headers);
  const names = BRANDED.some((n) => n in lowered) ? BRANDED : STANDARD;
  return names.map((name) => {
    const value = lowered[name];
    if (value == null || !String(value).trim()) {
      throw new SignatureError('missing_header', `missing header ${name}`);
    }
    if (typeof value !== 'string' || !/^[\x20-\x7e]+$/.test(value)) {
      throw new SignatureError('malformed_header', `header ${name} must be printable ASCII`);
    }
    return value.trim();
  });
};

const parseSignatures = (header) => {
  const found = [];
  for (const entry of header.split(/\s+/).filter(Boolean)) {
    const comma = entry.indexOf(',');
    const version = comma < 0 ? '' : entry.slice(0, comma);
    const value = comma < 0 ? '' : entry.slice(comma + 1);
    if (!version || !value) {
      throw new SignatureError('malformed_header', 'signature entries must look like v1,<base64>');
    }
    if (version !== 'v1') continue; // other schemes are skipped, not fatal
    const decoded = strictBase64(value);
    if (!decoded) throw new SignatureError('malformed_header', 'a v1 signature is not valid base64');
    found.push(decoded);
  }
  return found;
};

/**
 * Check a delivery's signature, then its timestamp; returns {id, timestamp} or throws SignatureError.
 * `secrets` is one secret or a list (several are valid during a rotation).
 */
const verify = (secrets, headers, body, { tolerance = DEFAULT_TOLERANCE, now } = {}) => {
  const keys = (Array.isArray(secrets) ? secrets : [secrets]).map(decodeSecret);
  if (!keys.length) throw new SignatureError('bad_secret', 'no webhook secret configured');
  const [id, rawTimestamp, rawSignatures] = readHeaders(headers);
  if (id.length > MAX_ID_LENGTH) throw new SignatureError('malformed_header', 'event id header is too long');
  if (!TIMESTAMP.test(rawTimestamp)) {
    throw new SignatureError('malformed_header', 'timestamp header must be integer Unix seconds');
  }
  const timestamp = Number(rawTimestamp);
  const candidates = parseSignatures(rawSignatures);
  const expected = keys.map((key) => digest(key, id, timestamp, body));
  // compare every pair without an early exit so timing does not depend on which one matched
  let matched = false;
  for (const candidate of candidates) {
    for (const wanted of expected) {
      const same = candidate.length === wanted.length && crypto.timingSafeEqual(candidate, wanted);
      matched = same || matched;
    }
  }
  if (!matched) throw new SignatureError('bad_signature', 'no signature matches the subscription secret');
  // the age check comes after the MAC, so a stale answer means a genuine but late delivery
  const current = now === undefined ? Date.now() / 1000 : now;
  if (current - timestamp > tolerance) {
    throw new SignatureError('stale', `timestamp is more than ${tolerance} s in the past`);
  }
  if (timestamp - current > tolerance) {
    throw new SignatureError('future', `timestamp is more than ${tolerance} s in the future`);
  }
  return { id, timestamp };
};

module.exports = {
  DEFAULT_TOLERANCE,
  SECRET_PREFIX,
  SignatureError,
  decodeSecret,
  normaliseHeaders,
  sign,
  verify,
};
