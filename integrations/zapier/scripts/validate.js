#!/usr/bin/env node
'use strict';
// Offline schema validation of the app: the command `zapier-platform validate --without-style`
// sends to zapier-platform-core (compile the app, then AppSchema and its functional constraints).
// The CLI itself needs Node >= 22; this runs wherever zapier-platform-core does.

process.env.NODE_ENV = process.env.NODE_ENV || 'test'; // keeps core's per-run memory log quiet
const zapier = require('zapier-platform-core');

const main = async () => {
  const App = require('../index');
  const { results: errors } = await zapier.createAppHandler(App)({ command: 'validate' });
  const { results: definition } = await zapier.createAppHandler(App)({ command: 'definition' });
  const count = (section) => Object.keys(definition[section] || {}).length;
  if (errors.length) {
    for (const e of errors) console.error(`  ${String(e.property).replace(/^instance/, 'App')}: ${e.message}`);
    console.error(`zapier validate: ${errors.length} structural error(s)`);
    process.exit(1);
  }
  console.log(
    `zapier validate: no structural errors (platform ${definition.platformVersion}, app ${definition.version}; ` +
      `${count('triggers')} triggers, ${count('creates')} creates, ${count('searches')} searches)`,
  );
};

main().catch((err) => {
  console.error(`zapier validate: ${err.stack || err}`);
  process.exit(1);
});
