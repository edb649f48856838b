'use strict';
// lib/signing.js against the project's golden vectors (tests/data/signing_vectors.json, shared with
// the Python signer and receiver) and against tampered, stale and malformed deliveries.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const { SignatureError, decodeSecret, normaliseHeaders, sign, verify } = require('../lib/signing');

const PACKAGE_ROOT = path.join(__dirname, '..');
const VECTORS = JSON.parse(
  fs.readFileSync(path.resolve(PACKAGE_ROOT, '../../tests/data/signing_vectors.json'), 'utf8'),
);

const branded = (v, signature = v.signature) => ({
  'X-PostDodo-Id': v.id,
  'X-PostDodo-Timestamp': String(v.timestamp),
  'X-PostDodo-Signature': signature,
});
const standard = (v, signature = v.signature) => ({
  'webhook-id': v.id,
  'webhook-timestamp': String(v.timestamp),
  'webhook-signature': signature,
});

const refusal = (fn) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SignatureError, `expected SignatureError, got ${err}`);
    return err.reason;
  }
  assert.fail('the delivery was accepted');
};

describe('golden vectors', () => {
  assert.ok(VECTORS.length >= 3, 'the shared vectors file has entries');
  for (const v of VECTORS) {
    it(`signs and verifies: ${v.name}`, () => {
      assert.equal(sign(v.secret, v.id, v.timestamp, v.body), v.signature);
      assert.deepEqual(verify(v.secret, branded(v), v.body, { now: v.timestamp }), {
        id: v.id,
        timestamp: v.timestamp,
      });
      assert.deepEqual(verify(v.secret, standard(v), v.body, { now: v.timestamp + 299 }), {
        id: v.id,
        timestamp: v.timestamp,
      });
    });

    it(`refuses tampered and stale copies: ${v.name}`, () => {
      const now = v.timestamp;
      assert.equal(
        refusal(() => verify(v.secret, branded(v), `${v.body} `, { now })),
        'bad_signature',
      );
      const otherId = { ...branded(v), 'X-PostDodo-Id': `${v.id}x` };
      assert.equal(
        refusal(() => verify(v.secret, otherId, v.body, { now })),
        'bad_signature',
      );
      const otherTime = { ...branded(v), 'X-PostDodo-Timestamp': String(v.timestamp + 1) };
      assert.equal(
        refusal(() => verify(v.secret, otherTime, v.body, { now })),
        'bad_signature',
      );
      const flipped = Buffer.from(v.signature.slice(3), 'base64');
      flipped[0] ^= 1;
      assert.equal(
        refusal(() => verify(v.secret, branded(v, `v1,${flipped.toString('base64')}`), v.body, { now })),
        'bad_signature',
      );
      assert.equal(
        refusal(() => verify(v.secret, branded(v), v.body, { now: v.timestamp + 301 })),
        'stale',
      );
      assert.equal(
        refusal(() => verify(v.secret, branded(v), v.body, { now: v.timestamp - 301 })),
        'future',
      );
    });
  }
});

describe('verify', () => {
  const v = VECTORS[1];
  const now = v.timestamp;

  it('reads the Http- prefixed, Camel-Case header names of bundle.rawRequest', () => {
    const headers = {
      'Http-X-Postdodo-Id': v.id,
      'Http-X-Postdodo-Timestamp': String(v.timestamp),
      'Http-X-Postdodo-Signature': v.signature,
      'Content-Type': 'application/json',
    };
    assert.equal(verify(v.secret, headers, v.body, { now }).id, v.id);
    const std = {
      'Http-Webhook-Id': v.id,
      'Http-Webhook-Timestamp': String(v.timestamp),
      'Http-Webhook-Signature': v.signature,
    };
    assert.equal(verify(v.secret, std, v.body, { now }).id, v.id);
    assert.equal(normaliseHeaders({ 'Http-X-Time-Gmt': '1' })['x-time-gmt'], '1');
  });

  it('accepts any one valid signature among several (rotation overlap) and skips other schemes', () => {
    const other = sign(VECTORS[0].secret, v.id, v.timestamp, v.body);
    assert.ok(verify(v.secret, branded(v, `v1a,abcd ${other} ${v.signature}`), v.body, { now }));
    assert.ok(verify([VECTORS[0].secret, v.secret], branded(v), v.body, { now }));
  });

  it('refuses a signature made with another secret', () => {
    assert.equal(
      refusal(() => verify(VECTORS[0].secret, branded(v), v.body, { now })),
      'bad_signature',
    );
  });

  it('refuses missing and malformed headers', () => {
    const { 'X-PostDodo-Signature': _, ...noSignature } = branded(v);
    assert.equal(
      refusal(() => verify(v.secret, noSignature, v.body, { now })),
      'missing_header',
    );
    assert.equal(
      refusal(() => verify(v.secret, {}, v.body, { now })),
      'missing_header',
    );
    const badTime = { ...branded(v), 'X-PostDodo-Timestamp': '+1732780800' };
    assert.equal(
      refusal(() => verify(v.secret, badTime, v.body, { now })),
      'malformed_header',
    );
    assert.equal(
      refusal(() => verify(v.secret, branded(v, 'v1'), v.body, { now })),
      'malformed_header',
    );
    assert.equal(
      refusal(() => verify(v.secret, branded(v, 'v1,not base64!'), v.body, { now })),
      'malformed_header',
    );
  });

  it('refuses signatures of another length without throwing from timingSafeEqual', () => {
    assert.equal(
      refusal(() => verify(v.secret, branded(v, 'v1,AAAA'), v.body, { now })),
      'bad_signature',
    );
  });

  it('refuses secrets that are not whsec_<base64> of 24..64 bytes', () => {
    assert.equal(
      refusal(() => decodeSecret('whsec_')),
      'bad_secret',
    );
    assert.equal(
      refusal(() => decodeSecret('whsec_%%%')),
      'bad_secret',
    );
    assert.equal(
      refusal(() => decodeSecret(`whsec_${Buffer.alloc(16).toString('base64')}`)),
      'bad_secret',
    );
    assert.equal(decodeSecret(`  ${VECTORS[1].secret}\n`).length, 32);
  });
});
