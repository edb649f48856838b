'use strict';

const { afterEach, beforeEach, describe, it } = require('node:test');
const assert = require('node:assert/strict');

const h = require('./helpers');
const { canonical, idempotencyKey } = require('../lib/idempotency');

const { App, api, appError, appTester, bundle, errorBody, post, throttled } = h;
const createPost = App.creates.create_post.operation.perform;

const INPUT = {
  caption: 'Our spring menu is here!',
  account_ids: ['acct_ig', 'acct_bs, acct_x'], // a mapped cell may hold several ids
  scheduled_at: '2030-04-01T09:00:00+02:00',
  media: ['https://cdn.example.com/menu.jpg', 'https://cdn.example.com/clip.MP4?sig=1'],
};
const BODY = {
  caption: 'Our spring menu is here!',
  account_ids: ['acct_ig', 'acct_bs', 'acct_x'],
  scheduled_at: '2030-04-01T09:00:00+02:00',
  media: [
    { type: 'image', url: 'https://cdn.example.com/menu.jpg' },
    { type: 'video', url: 'https://cdn.example.com/clip.MP4?sig=1' },
  ],
};
const KEY_PATTERN = /^zapier-[0-9a-f]{64}$/;

/** Mock POST /v1/posts, recording the Idempotency-Key it received. */
const mockCreate = (seen, reply = [201, post({ status: 'scheduled' })]) =>
  api()
    .matchHeader('idempotency-key', (value) => {
      seen.push(value);
      return KEY_PATTERN.test(value) || value === 'sheet-row-42';
    })
    .post('/v1/posts', BODY)
    .reply(...reply);

describe('create_post', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('posts the body with a deterministic Idempotency-Key and returns the post', async () => {
    const seen = [];
    mockCreate(seen);
    mockCreate(seen);
    const first = await appTester(createPost, bundle({ inputData: INPUT }));
    const again = await appTester(createPost, bundle({ inputData: { ...INPUT } }));
    assert.equal(first.id, 'post_1');
    assert.deepEqual(again, first);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1], 'a Zapier retry sends the same key');
    assert.equal(seen[0], idempotencyKey({ meta: {} }, '/v1/posts', BODY));
  });

  it('derives another key for another post or another Zap', async () => {
    const base = idempotencyKey({ meta: {} }, '/v1/posts', BODY);
    assert.notEqual(idempotencyKey({ meta: {} }, '/v1/posts', { ...BODY, caption: 'other' }), base);
    assert.notEqual(idempotencyKey({ meta: { zap: { id: 123 } } }, '/v1/posts', BODY), base);
    assert.equal(canonical({ b: 1, a: [1, { d: 2, c: null }] }), '{"a":[1,{"c":null,"d":2}],"b":1}');
  });

  it('uses the Idempotency Key field when the user sets one', async () => {
    const seen = [];
    mockCreate(seen);
    await appTester(createPost, bundle({ inputData: { ...INPUT, idempotency_key: ' sheet-row-42 ' } }));
    assert.deepEqual(seen, ['sheet-row-42']);
  });

  it('omits empty optional fields (publish now, no media)', async () => {
    api()
      .matchHeader('idempotency-key', KEY_PATTERN)
      .post('/v1/posts', { caption: 'Hello', account_ids: ['acct_ig'] })
      .reply(201, post({ status: 'publishing' }));
    const out = await appTester(
      createPost,
      bundle({ inputData: { caption: 'Hello', account_ids: 'acct_ig', scheduled_at: '', media: [] } }),
    );
    assert.equal(out.status, 'publishing');
  });

  it('sends alt texts, per-platform captions, the first comment and the thread', async () => {
    const content = {
      ...INPUT,
      media_alt: ['', 'A clip of the kitchen, with sound'],
      platform_captions: { X: 'Short, for X', bluesky: 'Longer for Bluesky', mastodon: '  ' },
      first_comment: ' Full menu: https://example.com/menu ',
      thread: '2/ Asparagus, from down the road\n\n3/ Rhubarb, from the garden',
    };
    const want = {
      ...BODY,
      media: [BODY.media[0], { ...BODY.media[1], alt: 'A clip of the kitchen, with sound' }],
      platforms: { x: { caption: 'Short, for X' }, bluesky: { caption: 'Longer for Bluesky' } },
      first_comment: 'Full menu: https://example.com/menu',
      thread: [{ caption: '2/ Asparagus, from down the road' }, { caption: '3/ Rhubarb, from the garden' }],
    };
    api()
      .matchHeader('idempotency-key', KEY_PATTERN)
      .post('/v1/posts', want)
      .reply(201, post({ status: 'scheduled' }));
    const out = await appTester(createPost, bundle({ inputData: content }));
    assert.equal(out.id, 'post_1');
    // a thread given as a list keeps each item whole, line breaks included
    api()
      .post('/v1/posts', { caption: 'c', account_ids: ['acct_x'], thread: [{ caption: 'a, b\nc' }] })
      .reply(201, post({ status: 'publishing' }));
    await appTester(
      createPost,
      bundle({ inputData: { caption: 'c', account_ids: 'acct_x', thread: ['a, b\nc', ' '] } }),
    );
  });

  it('refuses more alt texts than media before calling the API', async () => {
    const err = appError(
      await appTester(
        createPost,
        bundle({ inputData: { ...INPUT, media: 'https://cdn.example.com/a.jpg', media_alt: 'one\ntwo' } }),
      ).catch((e) => e),
    );
    assert.equal(err.code, 'invalid_input');
    assert.match(err.message, /2 alt texts for 1 media URLs/);
  });

  it('offers the content fields the catalogue defines', () => {
    const fields = Object.fromEntries(App.creates.create_post.operation.inputFields.map((f) => [f.key, f]));
    assert.equal(fields.platform_captions.dict, true);
    assert.equal(fields.media_alt.list, true);
    assert.equal(fields.thread.list, true);
    assert.equal(fields.first_comment.type, 'text');
  });

  it('maps the API error body, every detail and the request id into the Zapier error', async () => {
    api()
      .post('/v1/posts')
      .reply(
        400,
        errorBody('invalid_request', 'post refused: caption is 2301 graphemes; instagram allows 2200 (and 1 more)', {
          param: 'caption',
          details: [
            { field: 'caption', platform: 'instagram', rule: 'caption.length', message: 'caption is 2301 graphemes' },
            {
              field: 'media',
              platform: 'instagram',
              rule: 'media.required',
              message: 'instagram needs an image or video',
            },
          ],
        }),
      );
    const err = appError(await appTester(createPost, bundle({ inputData: INPUT })).catch((e) => e));
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.status, 400);
    assert.equal(
      err.message,
      'post refused: caption is 2301 graphemes; instagram allows 2200 (and 1 more). ' +
        'Also: media (instagram): instagram needs an image or video [request req_0123abcd]',
    );
  });

  it('says so when the answer is a replay of the first answer to this key', async () => {
    api().post('/v1/posts').reply(400, errorBody('invalid_request', 'account acct_ig is expired; reconnect it first'), {
      'Idempotent-Replayed': 'true',
    });
    const err = appError(await appTester(createPost, bundle({ inputData: INPUT })).catch((e) => e));
    assert.match(err.message, /reconnect it first .*\(replayed: .*Idempotency Key/);
  });

  it('turns 429 into a ThrottledError that waits Retry-After seconds', async () => {
    api()
      .post('/v1/posts')
      .reply(429, errorBody('rate_limited', 'rate limit of 120 per 1 minute exceeded; retry in 17s'), {
        'Retry-After': '17',
      });
    const err = throttled(await appTester(createPost, bundle({ inputData: INPUT })).catch((e) => e));
    assert.equal(err.delay, 17);
    assert.match(err.message, /rate limit of 120 per 1 minute exceeded/);
  });

  it('waits 60 s on a 429 without Retry-After or error body (a proxy)', async () => {
    api().post('/v1/posts').reply(429, 'Too Many Requests', { 'Content-Type': 'text/plain' });
    const err = throttled(await appTester(createPost, bundle({ inputData: INPUT })).catch((e) => e));
    assert.equal(err.delay, 60);
  });

  it('keeps the API code of a conflict', async () => {
    api()
      .post('/v1/posts')
      .reply(409, errorBody('idempotency_conflict', 'this Idempotency-Key was used with a different request'));
    const err = appError(
      await appTester(createPost, bundle({ inputData: { ...INPUT, idempotency_key: 'sheet-row-42' } })).catch((e) => e),
    );
    assert.deepEqual([err.code, err.status], ['idempotency_conflict', 409]);
  });

  it('reports a 5xx with its code', async () => {
    api().post('/v1/posts').reply(500, errorBody('internal_error', 'internal error; quote the request id to support'));
    const err = appError(await appTester(createPost, bundle({ inputData: INPUT })).catch((e) => e));
    assert.deepEqual([err.code, err.status], ['internal_error', 500]);
  });
});

describe('cancel_post', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('DELETEs the post and returns it', async () => {
    api()
      .delete('/v1/posts/post_1')
      .reply(200, post({ status: 'canceled' }));
    const out = await appTester(
      App.creates.cancel_post.operation.perform,
      bundle({ inputData: { post_id: ' post_1 ' } }),
    );
    assert.equal(out.status, 'canceled');
  });

  it('explains a post with nothing left to cancel', async () => {
    api()
      .delete('/v1/posts/post_1')
      .reply(409, errorBody('conflict', 'post post_1 has no target left to cancel (it is published)'));
    const err = appError(
      await appTester(App.creates.cancel_post.operation.perform, bundle({ inputData: { post_id: 'post_1' } })).catch(
        (e) => e,
      ),
    );
    assert.deepEqual([err.code, err.status], ['conflict', 409]);
    assert.match(err.message, /no target left to cancel/);
  });
});
