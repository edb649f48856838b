// Helpers of the n8n smoke test: timed phases, polling with a deadline, child processes, free ports.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const timings = [];
export const notes = [];
export const children = [];

export async function phase(name, body) {
	const started = Date.now();
	process.stdout.write(`-- ${name} ... `);
	try {
		const result = await body();
		const seconds = (Date.now() - started) / 1000;
		timings.push([name, seconds]);
		console.log(`ok (${seconds.toFixed(1)} s)`);
		return result;
	} catch (error) {
		console.log('FAILED');
		throw error;
	}
}

export async function freePort() {
	const server = createServer();
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** Poll `check` until it returns a truthy value; no fixed sleeps beyond the poll interval. */
export async function until(what, check, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		try {
			const value = await check();
			if (value) return value;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

/** A long-running child whose output is kept (shown when the test fails). */
export function start(command, argv, options) {
	const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
	child.output = '';
	child.stdout.on('data', (chunk) => (child.output += chunk));
	child.stderr.on('data', (chunk) => (child.output += chunk));
	children.push(child);
	return child;
}

export async function stop(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	child.kill('SIGTERM');
	await until('a child to stop', () => child.exitCode !== null || child.signalCode !== null, 20_000).catch(() =>
		child.kill('SIGKILL'),
	);
}
