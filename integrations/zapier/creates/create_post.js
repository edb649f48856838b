'use strict';

const catalogue = require('../lib/catalogue');
const { apiUrl } = require('../lib/api');
const { idempotencyKey } = require('../lib/idempotency');
const { lines, mediaItem, platformVersions, splitValues, text } = require('../lib/inputs');

/** The POST /v1/posts body from the Zap's inputs (throws a z.errors.Error for alt texts without media). */
const postBody = (z, input) => {
  const body = {
    caption: input.caption == null ? '' : String(input.caption),
    account_ids: splitValues(input.account_ids),
  };
  const scheduledAt = text(input.scheduled_at);
  if (scheduledAt) body.scheduled_at = scheduledAt;
  const media = splitValues(input.media);
  const alts = lines(input.media_alt, true);
  if (alts.length > media.length) {
    throw new z.errors.Error(
      `${alts.length} alt texts for ${media.length} media URLs: give at most one per media URL, in order`,
      'invalid_input',
      400,
    );
  }
  if (media.length)
    body.media = media.map((url, i) => (alts[i] ? { ...mediaItem(url), alt: alts[i] } : mediaItem(url)));
  const platforms = platformVersions(input.platform_captions);
  if (Object.keys(platforms).length) body.platforms = platforms;
  const firstComment = text(input.first_comment);
  if (firstComment) body.first_comment = firstComment;
  const thread = lines(input.thread);
  if (thread.length) body.thread = thread.map((caption) => ({ caption }));
  return body;
};

const perform = async (z, bundle) => {
  const body = postBody(z, bundle.inputData || {});
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
