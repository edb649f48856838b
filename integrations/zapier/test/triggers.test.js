'use strict';
// Polling triggers: New Post and the hidden list_accounts feeding the Accounts dropdown.

const { afterEach, beforeEach, describe, it } = require('node:test');
const assert = require('node:assert/strict');

const h = require('./helpers');

const { App, api, appTester, bundle, post } = h;
const page = (data) => ({ data, has_more: false, next_cursor: null });

describe('list_accounts (hidden)', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('returns accounts with the id and label the dropdown uses', async () => {
    api()
      .get('/v1/accounts')
      .reply(
        200,
        page([
          {
            id: 'acct_ig',
            platform: 'instagram',
            handle: 'cafe_dodo',
            display_name: 'Café Dodo',
            mode: 'live',
            status: 'active',
          },
        ]),
      );
    const out = await appTester(
      App.triggers.list_accounts.operation.perform,
      bundle({ meta: { isFillingDynamicDropdown: true } }),
    );
    assert.deepEqual(
      out.map((a) => [a.id, a.label]),
      [['acct_ig', 'Café Dodo (instagram @cafe_dodo)']],
    );
    const [trigger, value, label] = App.creates.create_post.operation.inputFields
      .find((f) => f.key === 'account_ids')
      .dynamic.split('.');
    assert.deepEqual([trigger, value, label], ['list_accounts', 'id', 'label']);
    assert.ok(value in out[0] && label in out[0]);
  });
});

describe('new_post (polling)', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  const perform = App.triggers.new_post.operation.perform;

  it('polls GET /v1/posts?limit=50 and returns posts newest first with their ids', async () => {
    const posts = [post({ id: 'post_3' }), post({ id: 'post_2', status: 'scheduled' }), post({ id: 'post_1' })];
    api().get('/v1/posts').query({ limit: '50' }).reply(200, { data: posts, has_more: true, next_cursor: 'c1' });
    const out = await appTester(perform, bundle());
    assert.deepEqual(
      out.map((p) => p.id),
      ['post_3', 'post_2', 'post_1'],
    );
    assert.equal(new Set(out.map((p) => p.id)).size, out.length, 'ids are unique, so Zapier dedupes by id');
  });

  it('gives the same ids on the next poll, so old posts do not fire again', async () => {
    const older = [post({ id: 'post_2' }), post({ id: 'post_1' })];
    api().get('/v1/posts').query({ limit: '50' }).reply(200, page(older));
    api()
      .get('/v1/posts')
      .query({ limit: '50' })
      .reply(200, page([post({ id: 'post_3' }), ...older]));
    const first = await appTester(perform, bundle());
    const second = await appTester(perform, bundle());
    const seen = new Set(first.map((p) => p.id));
    assert.deepEqual(
      second.filter((p) => !seen.has(p.id)).map((p) => p.id),
      ['post_3'],
    );
  });

  it('filters by status and seeds the dedupe table with a full page', async () => {
    api()
      .get('/v1/posts')
      .query({ limit: '100', status: 'failed' })
      .reply(200, page([post({ status: 'failed' })]));
    const out = await appTester(
      perform,
      bundle({ inputData: { status: 'failed' }, meta: { isPopulatingDedupe: true } }),
    );
    assert.equal(out[0].status, 'failed');
  });
});
