'use strict';
// The assembled app against Zapier's schema, and against the Python catalogue it is built from.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

require('./helpers'); // quiet zapier-platform-core
const zapier = require('zapier-platform-core');
const schema = require('zapier-platform-schema');

const App = require('../index');
const catalogue = require('../lib/catalogue');

const SOURCE = path.resolve(__dirname, '..', '..', 'generated', 'zapier-definition.json');
const generated = catalogue.generated;

describe('schema', () => {
  it('passes zapier-platform-core validation (the check `zapier-platform validate` runs)', async () => {
    // the same handler command the CLI invokes: compile the app, then AppSchema + functional constraints
    const handler = zapier.createAppHandler(App);
    const { results } = await handler({ command: 'validate' });
    assert.deepEqual(results, []);
  });

  it('passes zapier-platform-schema on the serialized definition', async () => {
    const { results: definition } = await zapier.createAppHandler(App)({ command: 'definition' });
    assert.equal(definition.platformVersion, zapier.version);
    assert.equal(definition.version, require('../package.json').version);
    assert.deepEqual(schema.validateAppDefinition(definition).errors, []);
  });

  it('catches broken definitions (the check is real)', async () => {
    const validate = async (createPost) => {
      const broken = { ...App, creates: { ...App.creates, create_post: createPost } };
      const { results } = await zapier.createAppHandler(broken)({ command: 'validate' });
      return results.map((e) => `${e.property} ${e.message}`).join('\n');
    };
    const op = App.creates.create_post.operation;
    const { noun, ...withoutNoun } = App.creates.create_post;
    assert.match(await validate(withoutNoun), /noun/);
    const twice = { ...op, inputFields: [...op.inputFields, op.inputFields[0]] };
    assert.match(await validate({ ...App.creates.create_post, operation: twice }), /must be unique/);
    const badKey = { ...App.creates.create_post, key: 'create-post' };
    assert.notEqual(await validate(badKey), '');
  });

  it('uses the same platform version as the schema package', () => {
    assert.equal(require('zapier-platform-schema/package.json').version, zapier.version);
  });
});

describe('packaging', () => {
  it('loads nothing from outside this package but dependencies (what `zapier-platform build` zips)', () => {
    const root = path.resolve(__dirname, '..') + path.sep;
    const ours = Object.keys(require.cache).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
    const outside = ours.filter((f) => !f.startsWith(root));
    assert.deepEqual(outside, []);
    assert.ok(ours.includes(path.join(root, 'generated', 'zapier-definition.json')));
  });

  it('runs the copy step before every build, install and test', () => {
    const { scripts } = require('../package.json');
    for (const name of ['_zapier-build', 'prepare', 'pretest']) {
      assert.equal(scripts[name], 'node scripts/sync-generated.js', name);
    }
  });
});

describe('catalogue', () => {
  it('the packaged copy equals integrations/generated/zapier-definition.json', { skip: !fs.existsSync(SOURCE) }, () => {
    assert.deepEqual(JSON.parse(fs.readFileSync(SOURCE, 'utf8')), generated);
  });

  for (const section of catalogue.SECTIONS) {
    it(`${section}: every catalogue key is implemented, with the catalogue's data`, () => {
      assert.deepEqual(Object.keys(App[section]).sort(), Object.keys(generated[section]).sort());
      for (const [key, source] of Object.entries(generated[section])) {
        const op = App[section][key];
        assert.equal(op.key, source.key);
        assert.equal(op.noun, source.noun);
        assert.deepEqual(op.display, source.display, `${key}.display`);
        for (const prop of ['inputFields', 'outputFields', 'sample', 'type']) {
          assert.deepEqual(op.operation[prop], source.operation[prop], `${key}.operation.${prop}`);
        }
        for (const slot of catalogue.FUNCTION_SLOTS) {
          if (slot in source.operation) assert.equal(typeof op.operation[slot], 'function', `${key}.${slot}`);
        }
      }
    });
  }

  it('authentication: the catalogue fields, with a function test and connection label', () => {
    assert.deepEqual(App.authentication.fields, generated.authentication.fields);
    assert.equal(App.authentication.type, 'custom');
    assert.equal(typeof App.authentication.test, 'function');
    assert.equal(typeof App.authentication.connectionLabel, 'function');
    const apiKey = App.authentication.fields.find((f) => f.key === 'apiKey');
    assert.equal(apiKey.type, 'password');
    const baseUrl = App.authentication.fields.find((f) => f.key === 'baseUrl');
    assert.equal(baseUrl.required, true);
    assert.ok(baseUrl.helpText);
  });

  it('every visible operation has a sample and labelled output fields (public-app checks)', () => {
    for (const section of catalogue.SECTIONS) {
      for (const op of Object.values(App[section])) {
        if (op.display.hidden) continue;
        assert.ok(op.operation.sample && Object.keys(op.operation.sample).length, `${op.key} sample`);
        assert.ok(op.operation.outputFields.length, `${op.key} outputFields`);
        for (const field of op.operation.outputFields) assert.ok(field.label, `${op.key}.${field.key} label`);
        assert.equal(
          op.operation.outputFields
            .filter((f) => f.primary)
            .map((f) => f.key)
            .join(),
          'id',
          op.key,
        );
      }
    }
  });

  it('hook triggers subscribe to the event their sample shows', () => {
    const { EVENTS } = require('../triggers/events');
    for (const [key, trigger] of Object.entries(generated.triggers)) {
      if (trigger.operation.type !== 'hook') continue;
      assert.equal(EVENTS[key], trigger.operation.sample.event, key);
    }
  });

  it('refuses a catalogue entry whose function slot the app does not implement', () => {
    assert.throws(
      () => catalogue.operation('triggers', 'post_published', { perform: () => [] }),
      /needs performSubscribe/,
    );
    assert.throws(() => catalogue.operation('creates', 'no_such_thing', {}), /no creates\.no_such_thing/);
  });
});
