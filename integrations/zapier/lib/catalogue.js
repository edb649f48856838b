'use strict';
// The Python catalogue (postdodo_connect/automation) is the one source of keys, labels, help
// texts, input fields, samples and output fields. `postdodo export` renders it to
// integrations/generated/zapier-definition.json; scripts/sync-generated.js copies that file
// here, so `zapier-platform build` (which packages this folder only) ships it too.
// This module keeps the catalogue's data and drops its `{source: ...}` functions: the app
// supplies its own JavaScript for every perform* slot.

const FUNCTION_SLOTS = [
  'perform',
  'performSubscribe',
  'performUnsubscribe',
  'performList',
  'performGet',
  'performResume',
];
const SECTIONS = ['triggers', 'creates', 'searches'];

let generated;
try {
  generated = require('../generated/zapier-definition.json');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND') throw err;
  throw new Error(
    'generated/zapier-definition.json is missing: run `npm run sync-generated` (it copies ' +
      'integrations/generated/zapier-definition.json, written by `postdodo export`).',
  );
}

const entry = (section, key) => {
  const found = generated[section] && generated[section][key];
  if (!found) throw new Error(`the catalogue has no ${section}.${key}; re-run \`postdodo export\``);
  return found;
};

/**
 * A trigger/create/search: the catalogue's key, noun, display and operation data, plus `functions`
 * for every function slot the catalogue declares (a slot left unimplemented is a load error).
 */
const operation = (section, key, functions) => {
  const source = entry(section, key);
  const data = {};
  for (const [name, value] of Object.entries(source.operation)) {
    if (!FUNCTION_SLOTS.includes(name)) data[name] = value;
  }
  const needed = FUNCTION_SLOTS.filter((slot) => slot in source.operation);
  const missing = needed.filter((slot) => typeof functions[slot] !== 'function');
  if (missing.length) throw new Error(`${section}.${key} needs ${missing.join(', ')}`);
  const extra = Object.keys(functions).filter((slot) => !FUNCTION_SLOTS.includes(slot));
  if (extra.length) throw new Error(`${section}.${key}: unknown function slots ${extra.join(', ')}`);
  return {
    key: source.key,
    noun: source.noun,
    display: { ...source.display },
    operation: { ...data, ...functions },
  };
};

/** Every key of one section, so the app can check it implements the whole catalogue. */
const keys = (section) => Object.keys(generated[section] || {});

/** The catalogue's authentication fields and static settings; the app adds test and label. */
const authentication = (functions) => {
  const { type, fields, customConfig } = generated.authentication;
  return { type, fields, customConfig: customConfig || {}, ...functions };
};

module.exports = { FUNCTION_SLOTS, SECTIONS, authentication, generated, keys, operation };
