'use strict';
// A deterministic Idempotency-Key for a create, so a Zapier retry (timeout, replay of a held run)
// gets PostDodo's first answer back instead of publishing the same post twice.

const crypto = require('crypto');

// JSON with sorted object keys: the same post always hashes the same way
const canonical = (value) => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
};

/**
 * `zapier-<sha256>` of the request body and, when Zapier provides it, the Zap id. Hashing the body
 * as sent means a key never meets a different body, so the API's idempotency_conflict cannot occur.
 */
const idempotencyKey = (bundle, path, body) => {
  const zap = bundle.meta && bundle.meta.zap && bundle.meta.zap.id;
  const digest = crypto
    .createHash('sha256')
    .update(canonical({ zap: zap ? String(zap) : null, path, body }))
    .digest('hex');
  return `zapier-${digest}`;
};

module.exports = { canonical, idempotencyKey };
