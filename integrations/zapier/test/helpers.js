'use strict';
// Shared fixtures: the app under appTester, a fake API origin for nock, bundles, and readers for
// the errors zapier-platform-core throws.

// zapier-platform-core looks for mocha/jest/NODE_ENV=test to stay quiet in tests; node:test needs the last
process.env.NODE_ENV = process.env.NODE_ENV || 'test';

const nock = require('nock');
const zapier = require('zapier-platform-core');

const App = require('../index');

zapier.tools.env.inject(); // a local .env, if any (none is needed: every request is mocked)

const API = 'https://postdodo.example.com';
const KEY = 'pd_live_0123456789abcdefghijklmnop';
const appTester = zapier.createAppTester(App);

const bundle = (extra = {}) => ({
  authData: { baseUrl: `${API}/`, apiKey: KEY },
  inputData: {},
  meta: {},
  ...extra,
});

/** nock scope on the API origin that requires the bearer key. */
const api = () => nock(API, { reqheaders: { authorization: `Bearer ${KEY}` } });

/** The {message, code, status} of a z.errors.Error. */
const appError = (err) => {
  if (err.name !== 'AppError') throw err;
  return JSON.parse(err.message);
};

/** The {message, delay} of a z.errors.ThrottledError. */
const throttled = (err) => {
  if (err.name !== 'ThrottledError') throw err;
  return JSON.parse(err.message);
};

const errorBody = (code, message, extra = {}) => ({ error: { code, message, request_id: 'req_0123abcd', ...extra } });

const post = (overrides = {}) => ({
  id: 'post_1',
  status: 'published',
  caption: 'Spring menu',
  scheduled_at: null,
  media: [],
  targets: [
    {
      account_id: 'acct_ig',
      platform: 'instagram',
      status: 'confirmed',
      permalink: 'https://www.instagram.com/p/abc/',
      platform_post_id: '1798',
      attempts: 1,
    },
  ],
  created_at: '2030-04-01T09:00:00Z',
  updated_at: '2030-04-01T09:00:04Z',
  ...overrides,
});

const setup = () => {
  nock.disableNetConnect();
};

const teardown = () => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length) throw new Error(`unused HTTP mocks: ${pending.join(', ')}`);
};

module.exports = { API, App, KEY, api, appError, appTester, bundle, errorBody, nock, post, setup, teardown, throttled };
