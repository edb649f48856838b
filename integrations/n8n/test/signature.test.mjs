import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot, signature } from './helpers.mjs';

const { sign, verify, decodeSecret } = signature;

// The golden vectors every PostDodo verifier shares (Python signing, receiver, Zapier, HA, n8n).
const vectors = JSON.parse(readFileSync(join(packageRoot, '../../tests/data/signing_vectors.json'), 'utf8'));

function headers(v, signatureValue = v.signature, prefix = 'webhook-') {
	return {
		[`${prefix}id`]: v.id,
		[`${prefix}timestamp`]: String(v.timestamp),
		[`${prefix}signature`]: signatureValue,
	};
}

describe('golden signing vectors', () => {
	it('has vectors to check', () => assert.ok(vectors.length >= 3));

	for (const v of vectors) {
		it(`signs and verifies: ${v.name}`, () => {
			assert.equal(sign(v.secret, v.id, v.timestamp, v.body), v.signature);
			const result = verify(v.secret, headers(v), Buffer.from(v.body, 'utf8'), { now: v.timestamp });
			assert.deepEqual(result, { ok: true, eventId: v.id, timestamp: v.timestamp });
			const branded = verify(v.secret, headers(v, v.signature, 'X-PostDodo-'), v.body, { now: v.timestamp + 299 });
			assert.equal(branded.ok, true);
		});

		it(`refuses tampering: ${v.name}`, () => {
			const now = { now: v.timestamp };
			const reason = (r) => (r.ok ? 'ok' : r.reason);
			assert.equal(reason(verify(v.secret, headers(v), `${v.body} `, now)), 'bad_signature');
			assert.equal(reason(verify(v.secret, { ...headers(v), 'webhook-id': `${v.id}x` }, v.body, now)), 'bad_signature');
			assert.equal(
				reason(verify(v.secret, { ...headers(v), 'webhook-timestamp': String(v.timestamp + 1) }, v.body, now)),
				'bad_signature',
			);
			const flipped = Buffer.from(v.signature.slice(3), 'base64');
			flipped[0] ^= 1;
			assert.equal(reason(verify(v.secret, headers(v, `v1,${flipped.toString('base64')}`), v.body, now)), 'bad_signature');
			const otherKey = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
			assert.equal(reason(verify(otherKey, headers(v), v.body, now)), 'bad_signature');
		});

		it(`refuses stale and future timestamps: ${v.name}`, () => {
			const stale = verify(v.secret, headers(v), v.body, { now: v.timestamp + 301 });
			assert.equal(stale.ok, false);
			assert.equal(stale.reason, 'stale');
			const future = verify(v.secret, headers(v), v.body, { now: v.timestamp - 301 });
			assert.equal(future.reason, 'future');
		});
	}
});

describe('verify', () => {
	const v = vectors[1];
	const now = { now: v.timestamp };

	it('refuses unsigned deliveries', () => {
		assert.equal(verify(v.secret, {}, v.body, now).reason, 'missing_header');
		const { 'webhook-signature': _drop, ...noSignature } = headers(v);
		assert.equal(verify(v.secret, noSignature, v.body, now).reason, 'missing_header');
		assert.equal(verify(v.secret, headers(v, '  '), v.body, now).reason, 'missing_header');
	});

	it('prefers the X-PostDodo-* headers and does not mix the two sets', () => {
		const mixed = { ...headers(v, 'v1,AAAA'), 'x-postdodo-id': v.id };
		assert.equal(verify(v.secret, mixed, v.body, now).reason, 'missing_header');
		const both = { ...headers(v, 'v1,AAAA'), ...headers(v, v.signature, 'X-PostDodo-') };
		assert.equal(verify(v.secret, both, v.body, now).ok, true);
	});

	it('accepts any of several space-separated signatures and skips other schemes', () => {
		const rotated = `v1,${Buffer.alloc(32).toString('base64')} v1a,whatever ${v.signature}`;
		assert.equal(verify(v.secret, headers(v, rotated), v.body, now).ok, true);
		assert.equal(verify(v.secret, headers(v, 'v2,abc'), v.body, now).reason, 'bad_signature');
	});

	it('accepts several secrets (rotation overlap)', () => {
		const old = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
		assert.equal(verify([old, v.secret], headers(v), v.body, now).ok, true);
	});

	it('refuses malformed headers', () => {
		assert.equal(verify(v.secret, headers(v, 'v1'), v.body, now).reason, 'malformed_header');
		assert.equal(verify(v.secret, headers(v, 'v1,not base64!'), v.body, now).reason, 'malformed_header');
		for (const ts of ['+1', '1.5', 'abc', '1e9', '-5']) {
			const result = verify(v.secret, { ...headers(v), 'webhook-timestamp': ts }, v.body, now);
			assert.equal(result.reason, 'malformed_header', ts);
		}
		const longId = { ...headers(v), 'webhook-id': 'x'.repeat(257) };
		assert.equal(verify(v.secret, longId, v.body, now).reason, 'malformed_header');
	});

	it('refuses when no usable secret is stored', () => {
		assert.equal(verify('', headers(v), v.body, now).reason, 'no_secret');
		assert.equal(verify('whsec_***', headers(v), v.body, now).reason, 'no_secret');
	});

	it('refuses bodies that are not UTF-8', () => {
		const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
		const sig = sign(v.secret, v.id, v.timestamp, bytes);
		assert.equal(verify(v.secret, headers(v, sig), bytes, now).reason, 'bad_signature');
	});

	it('uses the clock when no time is given', () => {
		const ts = Math.floor(Date.now() / 1000);
		const sig = sign(v.secret, v.id, ts, v.body);
		assert.equal(verify(v.secret, { ...headers(v, sig), 'webhook-timestamp': String(ts) }, v.body).ok, true);
	});

	it('decodes secrets with or without the prefix', () => {
		assert.deepEqual(decodeSecret(v.secret), decodeSecret(v.secret.slice('whsec_'.length)));
		assert.equal(decodeSecret('whsec_%%%'), undefined);
	});
});
