#!/usr/bin/env node
'use strict';
// Copy integrations/generated/zapier-definition.json (written by `postdodo export`) into this
// package, so the app and `zapier-platform build` (which zips this folder only) both find it.
// Runs as `prepare`, `pretest` and `_zapier-build`. Where the source is absent (the CLI's
// temporary build copy) an existing copy is kept.

const fs = require('fs');
const path = require('path');

const source = path.resolve(__dirname, '..', '..', 'generated', 'zapier-definition.json');
const target = path.resolve(__dirname, '..', 'generated', 'zapier-definition.json');

if (fs.existsSync(source)) {
  const bytes = fs.readFileSync(source);
  JSON.parse(bytes.toString('utf8')); // refuse to copy a broken file
  if (!fs.existsSync(target) || !fs.readFileSync(target).equals(bytes)) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, bytes);
    console.log(`sync-generated: copied ${path.relative(process.cwd(), source)}`);
  }
} else if (!fs.existsSync(target)) {
  console.error(`sync-generated: neither ${source} nor ${target} exists; run \`postdodo export\` first`);
  process.exit(1);
}
