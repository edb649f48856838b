// The node's fields, labels and help must be the Python catalogue's (integrations/generated/n8n-properties.json).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { catalogueModule, n8nWorkflow, packageRoot, PostDodo, PostDodoTrigger } from './helpers.mjs';

const generatedPath = join(packageRoot, '..', 'generated', 'n8n-properties.json');
const builtPath = join(packageRoot, 'dist', 'nodes', 'PostDodo', 'catalogue.json');
const hasGenerated = existsSync(generatedPath);
const generated = JSON.parse(readFileSync(hasGenerated ? generatedPath : builtPath, 'utf8'));

const nodeProperties = new PostDodo().description.properties;
const triggerProperties = new PostDodoTrigger().description.properties;

/** A property's identity: its name and where it shows (names repeat across operations). */
const key = (p) => `${p.name}@${JSON.stringify(p.displayOptions ?? {})}`;

describe('catalogue consistency', () => {
	it('builds from the current generated file', { skip: !hasGenerated && 'integrations/generated/n8n-properties.json is missing' }, () => {
		assert.deepEqual(JSON.parse(readFileSync(builtPath, 'utf8')), JSON.parse(readFileSync(generatedPath, 'utf8')));
	});

	it('has every catalogue field with its label, type, help, placeholder and requiredness', () => {
		const ours = new Map(nodeProperties.map((p) => [key(p), p]));
		for (const theirs of generated.node.properties) {
			const mine = ours.get(key(theirs));
			assert.ok(mine, `missing ${key(theirs)}`);
			for (const field of ['displayName', 'type', 'description', 'placeholder', 'required', 'typeOptions', 'noDataExpression']) {
				assert.deepEqual(mine[field], theirs[field], `${theirs.name}.${field}`);
			}
			if (theirs.name !== 'operation') assert.deepEqual(mine.default, theirs.default, `${theirs.name}.default`);
			assert.equal(mine.routing, undefined, 'programmatic node: no declarative routing');
		}
	});

	it('has every catalogue operation with its name, action and help', () => {
		for (const theirs of generated.node.properties.filter((p) => Array.isArray(p.options))) {
			const mine = nodeProperties.find((p) => key(p) === key(theirs));
			for (const option of theirs.options) {
				const found = mine.options.find((o) => o.value === option.value);
				assert.ok(found, `${theirs.name} option ${option.value}`);
				assert.equal(found.name, option.name);
				assert.equal(found.action, option.action);
				assert.equal(found.description, option.description);
			}
		}
	});

	it('adds only what the catalogue lacks, and keeps operations sorted', () => {
		const catalogueKeys = new Set(generated.node.properties.map(key));
		const added = nodeProperties.filter((p) => !catalogueKeys.has(key(p))).map((p) => p.name);
		const postOps = generated.node.properties.find((p) => p.name === 'operation' && p.displayOptions.show.resource[0] === 'post');
		const catalogueListsPosts = postOps.options.some((o) => o.value === 'getAll');
		assert.deepEqual(added, catalogueListsPosts ? [] : ['returnAll', 'limit', 'filters']);
		for (const p of nodeProperties.filter((x) => x.type === 'options' && Array.isArray(x.options))) {
			const names = p.options.map((o) => o.name);
			assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)), `${p.name} options sorted`);
		}
	});

	it('offers every catalogue trigger event with its label and help', () => {
		const events = triggerProperties.find((p) => p.name === 'events');
		const theirs = generated.trigger.properties.find((p) => p.name === 'events');
		for (const option of theirs.options) {
			const mine = events.options.find((o) => o.value === option.value);
			assert.ok(mine, option.value);
			assert.equal(mine.name, option.name);
			assert.equal(mine.description, option.description);
		}
		assert.equal(events.displayName, theirs.displayName);
		assert.deepEqual(events.default, theirs.default);
	});

	it("labels accounts as the catalogue's list_accounts sample does", () => {
		const sample = generated.samples?.list_accounts;
		if (!sample?.label) return;
		assert.equal(catalogueModule.accountLabel(sample), sample.label);
	});

	it("types media by the catalogue's video suffixes", () => {
		const media = generated.node.properties.find((p) => p.name === 'media');
		const suffixes = /\\\.\(([a-z0-9|]+)\)\$/i.exec(media.routing.send.value)[1].split('|');
		for (const suffix of suffixes) assert.equal(catalogueModule.mediaType(`https://x.example/a.${suffix}`), 'video');
		assert.equal(catalogueModule.mediaType('https://x.example/a.jpg'), 'image');
	});

	it('finds the routed fields of an operation, leaving out those the node maps itself', () => {
		const fields = catalogueModule.routedFields(generated.node.properties, 'post', 'create', []);
		const described = fields.map((f) => `${f.name}->${f.to}:${f.property}`);
		for (const expected of ['accountIds->body:account_ids', 'caption->body:caption', 'media->body:media', 'scheduledAt->body:scheduled_at']) {
			assert.ok(described.includes(expected), expected);
		}
		const handled = ['caption', 'accountIds', 'scheduledAt', 'media', 'idempotencyKey'];
		const rest = catalogueModule.routedFields(generated.node.properties, 'post', 'create', handled);
		assert.ok(rest.every((f) => !handled.includes(f.name)));
	});

	it('uses the webhook paths the catalogue lists', () => {
		assert.equal(catalogueModule.WEBHOOKS.collection, generated.trigger.webhook.create.url);
		assert.equal(catalogueModule.WEBHOOKS.item('wh_1'), generated.trigger.webhook.delete.url.replace('{id}', 'wh_1'));
	});

	it('gives n8n valid parameter descriptions (defaults resolve for every operation)', () => {
		const { NodeHelpers } = n8nWorkflow;
		const nodeType = { description: new PostDodo().description };
		for (const [resource, operation] of [
			['post', 'create'],
			['post', 'get'],
			['post', 'cancel'],
			['post', 'getAll'],
			['account', 'getAll'],
		]) {
			const params = NodeHelpers.getNodeParameters(
				nodeProperties,
				{ resource, operation },
				true,
				false,
				{ typeVersion: 1 },
				nodeType.description,
			);
			assert.equal(params.resource, resource);
			assert.equal(params.operation, operation);
		}
		const defaults = NodeHelpers.getNodeParameters(nodeProperties, {}, true, false, { typeVersion: 1 }, nodeType.description);
		assert.equal(defaults.operation, 'create');
		assert.deepEqual(defaults.accountIds, []);
	});
});
