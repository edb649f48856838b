// Runs one operation of the generated Zapier definition the way zapier-platform-core would:
// function sources as async functions of (z, bundle), request objects with {{bundle...}} curlies.
// z.request is a small fetch-based stand-in. Usage: node zapier_run.js DEFINITION.json '{"path": [...], "bundle": {...}}'
const fs = require('fs');
const definition = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const {path, bundle} = JSON.parse(process.argv[3]);
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

const z = {
  request: async (options) => {
    const opts = typeof options === 'string' ? {url: options} : options;
    const url = new URL(opts.url);
    for (const [key, value] of Object.entries(opts.params || {})) {
      if (value === undefined) continue;
      if ((opts.removeMissingValuesFrom || {}).params && (value === null || value === '')) continue;
      url.searchParams.set(key, value);
    }
    const headers = Object.assign({}, opts.headers || {});
    let body = opts.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(url, {method: opts.method || 'GET', headers, body, redirect: 'manual'});
    const text = await res.text();
    let data;
    try { data = text ? JSON.parse(text) : {}; } catch (e) { data = text; }
    const response = {
      status: res.status, data, json: data, content: text,
      throwForStatus() { if (res.status >= 400) throw new Error(`HTTP ${res.status}: ${text}`); },
    };
    if (!opts.skipThrowForStatus) response.throwForStatus();
    return response;
  },
};

const render = (text) => text.replace(/{{\s*bundle\.([\w.]+)\s*}}/g,
  (_, dotted) => String(dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), bundle) ?? ''));

async function run(op) {
  if (typeof op.source === 'string') return new AsyncFunction(...(op.args || ['z', 'bundle']), op.source)(z, bundle);
  const request = JSON.parse(JSON.stringify(op), (k, v) => (typeof v === 'string' ? render(v) : v));
  return (await z.request(request)).data;
}

const op = path.reduce((o, k) => o[k], definition);
run(op).then((result) => console.log(JSON.stringify({ok: true, result: result === undefined ? null : result})),
  (error) => console.log(JSON.stringify({ok: false, error: String(error && error.message || error)})));
