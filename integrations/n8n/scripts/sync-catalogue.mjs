// Copies the n8n rendering of the Python catalogue (integrations/generated/n8n-properties.json,
// written by `postdodo export`) next to the node sources, where tsc picks it up and emits it into dist/.
// The copy is git-ignored: the generated file is the only source of the node's fields, labels and help.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, '..', 'generated', 'n8n-properties.json');
const target = join(root, 'nodes', 'PostDodo', 'catalogue.json');

if (!existsSync(source)) {
	if (existsSync(target)) {
		console.warn(`sync-catalogue: ${source} not found; keeping the existing copy`);
		process.exit(0);
	}
	console.error(`sync-catalogue: ${source} not found; run \`postdodo export\` first`);
	process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log('sync-catalogue: nodes/PostDodo/catalogue.json <- integrations/generated/n8n-properties.json');
