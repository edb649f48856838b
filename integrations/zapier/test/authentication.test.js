'use strict';

const { afterEach, beforeEach, describe, it } = require('node:test');
const assert = require('node:assert/strict');

const h = require('./helpers');

const { App, api, appError, appTester, bundle, errorBody, nock } = h;

const ACCOUNTS = {
  data: [
    {
      id: 'acct_ig',
      platform: 'instagram',
      handle: 'cafe_dodo',
      display_name: 'Café Dodo',
      mode: 'live',
      status: 'active',
    },
    {
      id: 'acct_bs',
      platform: 'bluesky',
      handle: 'cafe.bsky.social',
      display_name: 'Café',
      mode: 'live',
      status: 'active',
    },
  ],
  has_more: false,
  next_cursor: null,
};

describe('authentication', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('tests the key with GET /v1/accounts and labels the connection from that answer', async () => {
    api().get('/v1/accounts').reply(200, ACCOUNTS);
    const info = await appTester(App.authentication.test, bundle());
    assert.deepEqual(info, {
      host: 'postdodo.example.com',
      mode: 'live',
      accounts: 2,
      handles: ['instagram:@cafe_dodo', 'bluesky:@cafe.bsky.social'],
    });
    const label = await appTester(App.authentication.connectionLabel, bundle({ inputData: info }));
    assert.equal(label, '@cafe_dodo +1 on postdodo.example.com (live)');
  });

  it('labels a sandbox workspace without accounts', async () => {
    nock(h.API).get('/v1/accounts').reply(200, { data: [], has_more: false, next_cursor: null });
    const b = bundle({ authData: { baseUrl: `${h.API}/v1/`, apiKey: 'pd_test_abc' } }); // a pasted /v1 is fine
    const info = await appTester(App.authentication.test, b);
    const label = await appTester(App.authentication.connectionLabel, bundle({ inputData: info }));
    assert.equal(label, 'no accounts yet on postdodo.example.com (sandbox)');
  });

  it('turns a 401 into a clear AuthenticationError', async () => {
    api().get('/v1/accounts').reply(401, errorBody('unauthorized', 'invalid API key (revoked, rotated or mistyped)'));
    const err = appError(await appTester(App.authentication.test, bundle()).catch((e) => e));
    assert.equal(err.code, 'AuthenticationError');
    assert.equal(err.status, 401);
    assert.match(
      err.message,
      /refused the API key: invalid API key \(revoked, rotated or mistyped\) \[request req_0123abcd\]/,
    );
  });

  it('refuses a base URL that answers 200 with something else (a login page)', async () => {
    api().get('/v1/accounts').reply(200, '<html>Sign in</html>', { 'Content-Type': 'text/html' });
    const err = appError(await appTester(App.authentication.test, bundle()).catch((e) => e));
    assert.equal(err.code, 'not_postdodo');
    assert.match(err.message, /Check the API Base URL/);
  });

  it('refuses a base URL that answers errors without the API error body', async () => {
    api().get('/v1/accounts').reply(404, '<h1>Not Found</h1>', { 'Content-Type': 'text/html' });
    const err = appError(await appTester(App.authentication.test, bundle()).catch((e) => e));
    assert.equal(err.code, 'not_postdodo');
    assert.equal(err.status, 404);
  });

  it('refuses a base URL that is not http(s)', async () => {
    const b = bundle({ authData: { baseUrl: 'postdodo.example.com', apiKey: h.KEY } });
    const err = appError(await appTester(App.authentication.test, b).catch((e) => e));
    assert.equal(err.code, 'invalid_base_url');
  });
});
