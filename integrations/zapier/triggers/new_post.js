'use strict';
// Polling "New Post": the newest posts first, each with its stable post id, so Zapier's
// deduplication fires once per post.

const catalogue = require('../lib/catalogue');
const { apiUrl } = require('../lib/api');
const { text } = require('../lib/inputs');

const POLL_LIMIT = 50;
const DEDUPE_LIMIT = 100; // the API's maximum page: seed the dedupe table generously when a Zap turns on

const perform = async (z, bundle) => {
  const meta = bundle.meta || {};
  const params = { limit: meta.isPopulatingDedupe ? DEDUPE_LIMIT : POLL_LIMIT };
  const status = text(bundle.inputData && bundle.inputData.status);
  if (status) params.status = status;
  const response = await z.request({ url: apiUrl(z, bundle, '/v1/posts'), params });
  return response.data.data;
};

module.exports = catalogue.operation('triggers', 'new_post', { perform });
