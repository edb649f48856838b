// The community-package rules n8n checks before installing or verifying a package.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from './helpers.mjs';

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
const require = createRequire(import.meta.url);

describe('package.json', () => {
	it('is a community node package', () => {
		assert.match(pkg.name, /^(@[a-z0-9-]+\/)?n8n-nodes-/);
		assert.ok(pkg.keywords.includes('n8n-community-node-package'));
		assert.equal(pkg.license, 'MIT');
		assert.deepEqual(pkg.files, ['dist']);
	});

	it('has no runtime dependencies and only n8n-workflow as a peer', () => {
		assert.equal(pkg.dependencies, undefined);
		assert.deepEqual(pkg.peerDependencies, { 'n8n-workflow': '*' });
		for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[script], undefined);
	});

	it('lists built nodes and credentials that load', () => {
		assert.equal(pkg.n8n.n8nNodesApiVersion, 1);
		assert.equal(pkg.n8n.strict, true);
		for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) {
			assert.ok(existsSync(join(packageRoot, file)), file);
			const exported = Object.values(require(join(packageRoot, file)));
			assert.equal(exported.length, 1, file);
			const instance = new exported[0]();
			const name = instance.description?.name ?? instance.name;
			assert.ok(file.includes(exported[0].name), `${file} is named after its class`);
			assert.ok(name, file);
		}
	});

	it('ships the icons and codex files next to the built nodes', () => {
		for (const file of ['postdodo.svg', 'postdodo.dark.svg', 'PostDodo.node.json', 'PostDodoTrigger.node.json', 'PostDodoNewPostTrigger.node.json', 'catalogue.json']) {
			assert.ok(existsSync(join(packageRoot, 'dist', 'nodes', 'PostDodo', file)), file);
		}
		const light = readFileSync(join(packageRoot, 'nodes', 'PostDodo', 'postdodo.svg'), 'utf8');
		const dark = readFileSync(join(packageRoot, 'nodes', 'PostDodo', 'postdodo.dark.svg'), 'utf8');
		assert.match(light, /^<svg [^>]*viewBox="0 0 60 60"/);
		assert.notEqual(light, dark);
	});

	it('names the codex after the package and node', () => {
		for (const [file, node] of [
			['PostDodo.node.json', 'postDodo'],
			['PostDodoTrigger.node.json', 'postDodoTrigger'],
			['PostDodoNewPostTrigger.node.json', 'postDodoNewPostTrigger'],
		]) {
			const codex = JSON.parse(readFileSync(join(packageRoot, 'nodes', 'PostDodo', file), 'utf8'));
			assert.equal(codex.node, `${pkg.name}.${node}`);
		}
	});
});
