'use strict';
// The PostDodo Zapier app. Keys, labels, help texts, input/output fields and samples come from the
// Python catalogue (generated/zapier-definition.json, see lib/catalogue.js); this package adds the
// JavaScript behind them: requests, idempotency, webhook subscriptions and signature checks.

const catalogue = require('./lib/catalogue');
const { addAuthHeader, handleErrors } = require('./lib/api');
const authentication = require('./authentication');
const { hookTrigger } = require('./triggers/events');

const byKey = (...operations) => Object.fromEntries(operations.map((op) => [op.key, op]));

const hookKeys = catalogue
  .keys('triggers')
  .filter((key) => catalogue.generated.triggers[key].operation.type === 'hook');

const App = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,

  authentication,
  beforeRequest: [addAuthHeader],
  afterResponse: [handleErrors],

  triggers: byKey(require('./triggers/list_accounts'), require('./triggers/new_post'), ...hookKeys.map(hookTrigger)),
  creates: byKey(require('./creates/create_post'), require('./creates/cancel_post')),
  searches: byKey(require('./searches/get_post')),
};

// every operation of the catalogue must be implemented here, and nothing else
for (const section of catalogue.SECTIONS) {
  const want = catalogue.keys(section).sort().join(',');
  const have = Object.keys(App[section]).sort().join(',');
  if (want !== have) throw new Error(`${section}: the catalogue has [${want}], the app implements [${have}]`);
}

module.exports = App;
