'use strict';

const { afterEach, beforeEach, describe, it } = require('node:test');
const assert = require('node:assert/strict');

const h = require('./helpers');

const { App, api, appError, appTester, bundle, errorBody, post } = h;
const findPost = App.searches.get_post.operation.perform;

describe('get_post (Find Post)', () => {
  beforeEach(h.setup);
  afterEach(h.teardown);

  it('returns the post in a list', async () => {
    api().get('/v1/posts/post_1').reply(200, post());
    const out = await appTester(findPost, bundle({ inputData: { post_id: 'post_1' } }));
    assert.equal(out.length, 1);
    assert.equal(out[0].targets[0].permalink, 'https://www.instagram.com/p/abc/');
  });

  it('returns an empty list for an unknown id', async () => {
    api()
      .get('/v1/posts/post_nope')
      .reply(404, errorBody('not_found', 'no post post_nope', { param: 'id' }));
    assert.deepEqual(await appTester(findPost, bundle({ inputData: { post_id: 'post_nope' } })), []);
  });

  it('escapes the id into the path', async () => {
    api().get('/v1/posts/a%2Fb').reply(404, errorBody('not_found', 'no post a/b'));
    assert.deepEqual(await appTester(findPost, bundle({ inputData: { post_id: 'a/b' } })), []);
  });

  it('still reports a bad key', async () => {
    api().get('/v1/posts/post_1').reply(401, errorBody('unauthorized', 'invalid API key'));
    const err = appError(await appTester(findPost, bundle({ inputData: { post_id: 'post_1' } })).catch((e) => e));
    assert.equal(err.code, 'AuthenticationError');
  });

  it('reports other errors with the API message', async () => {
    api().get('/v1/posts/post_1').reply(500, errorBody('internal_error', 'internal error'));
    const err = appError(await appTester(findPost, bundle({ inputData: { post_id: 'post_1' } })).catch((e) => e));
    assert.deepEqual([err.code, err.status], ['internal_error', 500]);
  });
});
