'use strict';
// Custom (API key) auth: the catalogue's baseUrl + apiKey fields, a test that proves the URL is a
// PostDodo API and the key works, and a label built from that same answer (no extra request).

const catalogue = require('./lib/catalogue');
const { apiRoot, apiUrl } = require('./lib/api');

const test = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(z, bundle, '/v1/accounts') });
  const body = response.data;
  // a login page or a proxy answering 200 with HTML must not pass as "connected"
  if (!body || !Array.isArray(body.data)) {
    throw new z.errors.Error(
      `${apiRoot(z, bundle)}/v1/accounts answered, but not with a PostDodo account list. ` +
        'Check the API Base URL (the root of the API, without /v1).',
      'not_postdodo',
      response.status,
    );
  }
  const key = String(bundle.authData.apiKey || '').trim();
  return {
    host: new URL(apiRoot(z, bundle)).host,
    mode: key.startsWith('pd_test_') ? 'sandbox' : 'live',
    accounts: body.data.length,
    handles: body.data.map((a) => `${a.platform}:@${a.handle}`),
  };
};

// "@cafe_dodo +3 on postdodo.example.com (live)": tells two workspaces on one server apart
const connectionLabel = (z, bundle) => {
  const info = bundle.inputData || {};
  const where = `${info.host || 'PostDodo'}${info.mode ? ` (${info.mode})` : ''}`;
  const handles = Array.isArray(info.handles) ? info.handles : [];
  if (!handles.length) return `no accounts yet on ${where}`;
  const first = handles[0].replace(/^[^:]*:/, '');
  return `${first}${handles.length > 1 ? ` +${handles.length - 1}` : ''} on ${where}`;
};

module.exports = catalogue.authentication({ test, connectionLabel });
