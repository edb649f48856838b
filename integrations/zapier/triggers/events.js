'use strict';
// REST hook triggers, one per webhook event of the catalogue (Post Published, Post Failed, Post
// Completed). Subscribing registers the Zap's target URL as a PostDodo webhook endpoint for that one
// event; the endpoint (with its whsec_ secret) becomes bundle.subscribeData, so every delivery's
// Standard Webhooks signature is checked against it before the Zap runs.

const catalogue = require('../lib/catalogue');
const { apiUrl, throwForError } = require('../lib/api');
const { DEFAULT_TOLERANCE, SignatureError, verify } = require('../lib/signing');

/** trigger key -> the event type it subscribes to */
const EVENTS = {
  post_published: 'post.published',
  post_failed: 'post.failed',
  post_completed: 'post.completed',
};
const RECENT = 25; // posts looked at for example items (the catalogue's RECENT)

// POSTDODO_WEBHOOK_TOLERANCE (zapier-platform env:set) widens the age check if Zapier ever
// runs deliveries late; the default is the Standard Webhooks 5 minutes
const tolerance = () => {
  const value = parseInt(process.env.POSTDODO_WEBHOOK_TOLERANCE || '', 10);
  return Number.isNaN(value) || value <= 0 ? DEFAULT_TOLERANCE : value;
};

const subscribe = (key, event) => async (z, bundle) => {
  const response = await z.request({
    method: 'POST',
    url: apiUrl(z, bundle, '/v1/webhooks'),
    headers: { 'Content-Type': 'application/json' },
    body: { url: bundle.targetUrl, events: [event], description: `Zapier: ${key}` },
  });
  return response.data; // {id, url, events, status, secret, ...}: kept by Zapier as subscribeData
};

const unsubscribe = async (z, bundle) => {
  const id = bundle.subscribeData && bundle.subscribeData.id;
  if (!id) return {};
  const response = await z.request({
    method: 'DELETE',
    url: apiUrl(z, bundle, `/v1/webhooks/${encodeURIComponent(id)}`),
    skipThrowForStatus: true,
  });
  // already gone (deleted by hand, or disabled and purged): turning the Zap off must still work
  if (response.status === 404) return { id, status: 'disabled', disabled_reason: 'already_deleted' };
  throwForError(response, z);
  return response.data;
};

/** The parsed body Zapier hands over: the envelope itself, or wrapped as `content`. */
const cleanedEnvelope = (bundle) => {
  const cleaned = bundle.cleanedRequest || {};
  if (cleaned.event === undefined && cleaned.content && typeof cleaned.content === 'object') return cleaned.content;
  return cleaned;
};

/** The delivery's event envelope, read from the exact bytes whose signature was checked. */
const verifiedEnvelope = (z, bundle) => {
  const secret = bundle.subscribeData && bundle.subscribeData.secret;
  if (!secret) {
    // a subscription whose answer carried no secret: nothing to check against
    z.console.log('PostDodo: this subscription has no signing secret; delivery accepted unverified');
    return cleanedEnvelope(bundle);
  }
  if (process.env.POSTDODO_SKIP_SIGNATURE === '1') return cleanedEnvelope(bundle);
  const raw = bundle.rawRequest;
  if (!raw || typeof raw.content !== 'string') {
    throw new z.errors.HaltedError(
      'Ignored a PostDodo delivery: Zapier passed no raw body, so its signature could not be checked.',
    );
  }
  try {
    verify(secret, raw.headers, raw.content, { tolerance: tolerance() });
  } catch (err) {
    if (err instanceof SignatureError) {
      throw new z.errors.HaltedError(
        `Ignored a delivery that PostDodo did not sign for this Zap (${err.reason}: ${err.message}).`,
      );
    }
    throw err;
  }
  try {
    return JSON.parse(raw.content);
  } catch (err) {
    throw new z.errors.HaltedError('Ignored a signed PostDodo delivery whose body is not JSON.');
  }
};

/** One flat item per delivery: event id, type and time, then the event's data (catalogue event_items). */
const eventItem = (envelope) => ({
  id: envelope.id,
  event: envelope.event,
  created_at: envelope.created_at,
  ...(envelope.data && typeof envelope.data === 'object' ? envelope.data : {}),
});

const perform = (event) => async (z, bundle) => {
  const envelope = verifiedEnvelope(z, bundle);
  // endpoint tests (webhook.test) and other types are not this trigger's business
  if (!envelope || envelope.event !== event) return [];
  return [eventItem(envelope)];
};

// examples for the Zap editor: recent posts reshaped like each event's data
const TARGET_STATUS = { 'post.published': 'confirmed', 'post.failed': 'failed' };
const FINAL = ['published', 'partially_published', 'failed'];

const exampleItems = (post, event) => {
  const at = post.updated_at || post.created_at;
  const targets = post.targets || [];
  if (event === 'post.completed') {
    if (!FINAL.includes(post.status)) return [];
    return [
      {
        id: post.id,
        event,
        created_at: at,
        post_id: post.id,
        status: post.status,
        sequence: null, // the event's place among the post's events: known only to a delivered event
        targets: targets.map((t) => ({
          account_id: t.account_id,
          platform: t.platform,
          status: t.status,
          permalink: t.permalink || null,
        })),
      },
    ];
  }
  return targets
    .filter((t) => t.status === TARGET_STATUS[event])
    .map((t) => {
      const item = {
        id: `${post.id}.${t.account_id}`,
        event,
        created_at: at,
        post_id: post.id,
        account_id: t.account_id,
        platform: t.platform,
        status: t.status,
        sequence: null,
      };
      if (event === 'post.published') {
        item.permalink = t.permalink || null;
        item.platform_post_id = t.platform_post_id || null;
      } else {
        item.error = t.error || null;
      }
      return item;
    });
};

const performList = (event) => async (z, bundle) => {
  const response = await z.request({ url: apiUrl(z, bundle, '/v1/posts'), params: { limit: RECENT } });
  return response.data.data.flatMap((post) => exampleItems(post, event));
};

const hookTrigger = (key) => {
  const event = EVENTS[key];
  if (!event) throw new Error(`no event type known for hook trigger ${key}; add it to triggers/events.js`);
  return catalogue.operation('triggers', key, {
    perform: perform(event),
    performSubscribe: subscribe(key, event),
    performUnsubscribe: unsubscribe,
    performList: performList(event),
  });
};

module.exports = { EVENTS, eventItem, exampleItems, hookTrigger };
