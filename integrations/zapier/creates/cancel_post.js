'use strict';

const catalogue = require('../lib/catalogue');
const { apiUrl } = require('../lib/api');
const { text } = require('../lib/inputs');

const perform = async (z, bundle) => {
  const id = text(bundle.inputData.post_id) || '';
  const response = await z.request({ method: 'DELETE', url: apiUrl(z, bundle, `/v1/posts/${encodeURIComponent(id)}`) });
  return response.data;
};

module.exports = catalogue.operation('creates', 'cancel_post', { perform });
