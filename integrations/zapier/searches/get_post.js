'use strict';
// "Find Post": one post by id with each target's status and permalink; no match is an empty list.

const catalogue = require('../lib/catalogue');
const { apiUrl, throwForError } = require('../lib/api');
const { text } = require('../lib/inputs');

const perform = async (z, bundle) => {
  const id = text(bundle.inputData.post_id);
  if (!id) return [];
  const response = await z.request({
    url: apiUrl(z, bundle, `/v1/posts/${encodeURIComponent(id)}`),
    skipThrowForStatus: true, // 404 means "not found", the search's empty answer
  });
  if (response.status === 404) return [];
  throwForError(response, z);
  return [response.data];
};

module.exports = catalogue.operation('searches', 'get_post', { perform });
