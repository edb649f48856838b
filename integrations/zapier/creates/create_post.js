'use strict';

const catalogue = require('../lib/catalogue');
const { apiUrl } = require('../lib/api');
const { idempotencyKey } = require('../lib/idempotency');
const { mediaItem, splitValues, text } = require('../lib/inputs');

/** The POST /v1/posts body from the Zap's inputs. */
const postBody = (input) => {
  const body = {
    caption: input.caption == null ? '' : String(input.caption),
    account_ids: splitValues(input.account_ids),
  };
  const scheduledAt = text(input.scheduled_at);
  if (scheduledAt) body.scheduled_at = scheduledAt;
  const media = splitValues(input.media);
  if (media.length) body.media = media.map(mediaItem);
  return body;
};

const perform = async (z, bundle) => {
  const body = postBody(bundle.inputData || {});
  const key = text(bundle.inputData && bundle.inputData.idempotency_key) || idempotencyKey(bundle, '/v1/posts', body);
  const response = await z.request({
    method: 'POST',
    url: apiUrl(z, bundle, '/v1/posts'),
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body,
  });
  return response.data;
};

module.exports = catalogue.operation('creates', 'create_post', { perform });
