'use strict';
// REST hook triggers: subscribe, unsubscribe, signed deliveries and sample lists.

const { afterEach, beforeEach, describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');

const h = require('./helpers');
const { sign } = require('../lib/signing');

const { App, api, appError, appTester, bundle, errorBody, post } = h;

const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const TARGET = 'https://hooks.zapier.com/hooks/standard/1234/abcd/';
const ENDPOINT = {
  id: 'wh_1',
  url: TARGET,
  events: ['post.published'],
  status: 'enabled',
  description: 'Zapier: post_published',
  created_at: '2030-04-01T09:00:00Z',
  secret: SECRET,
};
const PUBLISHED = {
  id: 'evt_1',
  event: 'post.published',
  created_at: '2030-04-01T09:00:04Z',
  data: {
    post_id: 'post_1',
    account_id: 'acct_ig',
    platform: 'instagram',
    status: 'confirmed',
    permalink: 'https://www.instagram.com/p/abc/',
    platform_post_id: '1798',
  },
};

/** A delivery as Zapier hands it to perform: Http- prefixed headers, the raw body, the parsed body. */
const delivery = (
  envelope,
  { secret = SECRET, timestamp = Math.floor(Date.now() / 1000), body, standard = false } = {},
) => {
  const content = body === undefined ? JSON.stringify(envelope) : body;
  const signature = sign(secret, envelope.id, timestamp, content);
  const names = standard
    ? ['Webhook-Id', 'Webhook-Timestamp', 'Webhook-Signature']
    : ['X-Postdodo-Id', 'X-Postdodo-Timestamp', 'X-Postdodo-Signature'];
  const values = [envelope.id, String(timestamp), signature];
  const headers = { 'Content-Type': 'application/json' };
  names.forEach((name, i) => {
    headers[`Http-${name}`] = values[i];
  });
  return {
    subscribeData: { ...ENDPOINT, events: [envelope.event] },
    rawRequest: { method: 'POST', querystring: '', headers, content },
    cleanedRequest: envelope,
  };
};

const halted = async (promise) => {
  const err = await promise.then(
    () => assert.fail('the delivery was accepted'),
    (e) => e,
  );
  assert.equal(err.name, 'HaltedError', String(err));
  return err.message;
};

const trigger = (key) => App.triggers[key].operation;

describe('subscribe and unsubscribe', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  for (const [key, event] of [
    ['post_published', 'post.published'],
    ['post_failed', 'post.failed'],
    ['post_completed', 'post.completed'],
  ]) {
    it(`${key}: registers the Zap's target URL for ${event} and keeps the endpoint with its secret`, async () => {
      api()
        .post('/v1/webhooks', { url: TARGET, events: [event], description: `Zapier: ${key}` })
        .reply(201, { ...ENDPOINT, events: [event] });
      const data = await appTester(trigger(key).performSubscribe, bundle({ targetUrl: TARGET }));
      assert.equal(data.id, 'wh_1');
      assert.equal(data.secret, SECRET, 'the secret lands in bundle.subscribeData for perform');
    });
  }

  it('explains a refused target URL', async () => {
    api()
      .post('/v1/webhooks')
      .reply(400, errorBody('url_not_allowed', 'webhook url resolves to a private address', { param: 'url' }));
    const err = appError(
      await appTester(trigger('post_failed').performSubscribe, bundle({ targetUrl: TARGET })).catch((e) => e),
    );
    assert.equal(err.code, 'url_not_allowed');
  });

  it('DELETEs the endpoint it made', async () => {
    api()
      .delete('/v1/webhooks/wh_1')
      .reply(200, { ...ENDPOINT, secret: undefined, status: 'disabled' });
    const out = await appTester(trigger('post_published').performUnsubscribe, bundle({ subscribeData: ENDPOINT }));
    assert.equal(out.status, 'disabled');
  });

  it('treats an endpoint already gone as unsubscribed', async () => {
    api().delete('/v1/webhooks/wh_1').reply(404, errorBody('not_found', 'no webhook endpoint wh_1'));
    const out = await appTester(trigger('post_published').performUnsubscribe, bundle({ subscribeData: ENDPOINT }));
    assert.equal(out.id, 'wh_1');
  });

  it('reports other unsubscribe failures', async () => {
    api().delete('/v1/webhooks/wh_1').reply(500, errorBody('internal_error', 'internal error'));
    const err = appError(
      await appTester(trigger('post_published').performUnsubscribe, bundle({ subscribeData: ENDPOINT })).catch(
        (e) => e,
      ),
    );
    assert.equal(err.status, 500);
  });
});

describe('perform (a delivery)', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('accepts a signed delivery and returns one flat item', async () => {
    const out = await appTester(trigger('post_published').perform, bundle(delivery(PUBLISHED)));
    assert.deepEqual(out, [
      {
        id: 'evt_1',
        event: 'post.published',
        created_at: '2030-04-01T09:00:04Z',
        post_id: 'post_1',
        account_id: 'acct_ig',
        platform: 'instagram',
        status: 'confirmed',
        permalink: 'https://www.instagram.com/p/abc/',
        platform_post_id: '1798',
      },
    ]);
    // the item has every output field the catalogue labels
    for (const field of trigger('post_published').outputFields) assert.ok(field.key in out[0], field.key);
  });

  it('accepts the Standard Webhooks header names too', async () => {
    const out = await appTester(trigger('post_published').perform, bundle(delivery(PUBLISHED, { standard: true })));
    assert.equal(out[0].id, 'evt_1');
  });

  it('reads the verified raw bytes, not the parsed copy', async () => {
    const b = delivery(PUBLISHED);
    b.cleanedRequest = { ...PUBLISHED, data: { ...PUBLISHED.data, permalink: 'https://evil.example/' } };
    const out = await appTester(trigger('post_published').perform, bundle(b));
    assert.equal(out[0].permalink, 'https://www.instagram.com/p/abc/');
  });

  it('halts on a tampered body', async () => {
    const b = delivery(PUBLISHED);
    b.rawRequest.content = b.rawRequest.content.replace('abc', 'abd');
    assert.match(await halted(appTester(trigger('post_published').perform, bundle(b))), /bad_signature/);
  });

  it('halts on a delivery signed with another secret', async () => {
    const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const b = delivery(PUBLISHED, { secret: other });
    assert.match(await halted(appTester(trigger('post_published').perform, bundle(b))), /bad_signature/);
  });

  it('halts on a stale delivery (older than 5 minutes)', async () => {
    const b = delivery(PUBLISHED, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    assert.match(await halted(appTester(trigger('post_published').perform, bundle(b))), /stale/);
  });

  it('halts on an unsigned delivery', async () => {
    const b = delivery(PUBLISHED);
    b.rawRequest.headers = { 'Content-Type': 'application/json' };
    assert.match(await halted(appTester(trigger('post_published').perform, bundle(b))), /missing_header/);
  });

  it('halts when Zapier passes no raw body to check', async () => {
    const b = delivery(PUBLISHED);
    delete b.rawRequest;
    assert.match(await halted(appTester(trigger('post_published').perform, bundle(b))), /no raw body/);
  });

  it('accepts an unverified delivery only for a subscription without a secret', async () => {
    const b = delivery(PUBLISHED);
    delete b.subscribeData.secret;
    delete b.rawRequest;
    const out = await appTester(trigger('post_published').perform, bundle(b));
    assert.equal(out[0].id, 'evt_1');
  });

  it('ignores other event types (an endpoint test) with no run', async () => {
    const ping = { id: 'evt_t', event: 'webhook.test', created_at: '2030-04-01T09:00:00Z', data: { message: 'hello' } };
    assert.deepEqual(await appTester(trigger('post_published').perform, bundle(delivery(ping))), []);
  });

  it('post_failed flattens the failure reason', async () => {
    const failed = {
      id: 'evt_2',
      event: 'post.failed',
      created_at: '2030-04-01T09:00:04Z',
      data: {
        post_id: 'post_1',
        account_id: 'acct_ig',
        platform: 'instagram',
        status: 'failed',
        error: { code: 'media_rejected', message: 'aspect ratio 4:1', retryable: false, platform_error: null },
      },
    };
    const out = await appTester(trigger('post_failed').perform, bundle(delivery(failed)));
    assert.equal(out[0].error.code, 'media_rejected');
    assert.deepEqual(await appTester(trigger('post_failed').perform, bundle(delivery(PUBLISHED))), []);
  });
});

describe('performList (examples for the Zap editor)', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  const posts = [
    post({
      id: 'post_2',
      status: 'partially_published',
      targets: [
        {
          account_id: 'acct_ig',
          platform: 'instagram',
          status: 'failed',
          attempts: 3,
          error: { code: 'media_rejected', message: 'no', retryable: false },
        },
        {
          account_id: 'acct_bs',
          platform: 'bluesky',
          status: 'confirmed',
          permalink: 'https://bsky.app/profile/x/post/1',
          platform_post_id: 'at://1',
          attempts: 1,
        },
      ],
    }),
    post({
      id: 'post_1',
      status: 'scheduled',
      targets: [{ account_id: 'acct_ig', platform: 'instagram', status: 'scheduled', attempts: 0 }],
    }),
  ];
  const recent = () =>
    api().get('/v1/posts').query({ limit: '25' }).reply(200, { data: posts, has_more: false, next_cursor: null });

  it('post_published: confirmed targets shaped like post.published data', async () => {
    recent();
    const out = await appTester(trigger('post_published').performList, bundle({ meta: { isLoadingSample: true } }));
    assert.deepEqual(out, [
      {
        id: 'post_2.acct_bs',
        event: 'post.published',
        created_at: '2030-04-01T09:00:04Z',
        post_id: 'post_2',
        account_id: 'acct_bs',
        platform: 'bluesky',
        status: 'confirmed',
        sequence: null,
        permalink: 'https://bsky.app/profile/x/post/1',
        platform_post_id: 'at://1',
      },
    ]);
    assert.deepEqual(Object.keys(out[0]).sort(), Object.keys(trigger('post_published').sample).sort());
  });

  it('post_failed: failed targets with their error', async () => {
    recent();
    const out = await appTester(trigger('post_failed').performList, bundle());
    assert.deepEqual(
      out.map((i) => [i.id, i.error.code]),
      [['post_2.acct_ig', 'media_rejected']],
    );
    assert.deepEqual(Object.keys(out[0]).sort(), Object.keys(trigger('post_failed').sample).sort());
  });

  it('post_completed: final posts only', async () => {
    recent();
    const out = await appTester(trigger('post_completed').performList, bundle());
    assert.deepEqual(
      out.map((i) => [i.id, i.status, i.targets.length]),
      [['post_2', 'partially_published', 2]],
    );
    assert.deepEqual(Object.keys(out[0]).sort(), Object.keys(trigger('post_completed').sample).sort());
  });
});
