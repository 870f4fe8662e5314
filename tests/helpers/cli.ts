import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main.ts';

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

/**
 * Runs `bedside <args>` in this process, as the command line would, with exactly `env` (plus PATH
 * and HOME) as its environment, and returns what it printed. In-process because a spawned CLI
 * pays Node's start-up and module loading on every call; one smoke test spawns the real thing.
 * Calls must not overlap (the environment and the console are the process's).
 */
export async function bedside(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
	const saved = { ...process.env };
	const out: string[] = [];
	const err: string[] = [];
	const original = {
		log: console.log,
		error: console.error,
		warn: console.warn,
		stdout: process.stdout.write,
		stderr: process.stderr.write
	};
	const sink =
		(into: string[]) =>
		(...parts: unknown[]) => {
			into.push(`${parts.map(String).join(' ')}\n`);
		};
	for (const key of Object.keys(process.env)) delete process.env[key];
	Object.assign(process.env, { PATH: saved.PATH ?? '', HOME: saved.HOME ?? '' }, env);
	console.log = sink(out);
	console.error = sink(err);
	console.warn = sink(err);
	process.stdout.write = ((chunk: string | Uint8Array) => {
		out.push(String(chunk));
		return true;
	}) as typeof process.stdout.write;
	process.stderr.write = ((chunk: string | Uint8Array) => {
		err.push(String(chunk));
		return true;
	}) as typeof process.stderr.write;
	try {
		const code = await main(args);
		return { code, stdout: out.join(''), stderr: err.join('') };
	} finally {
		console.log = original.log;
		console.error = original.error;
		console.warn = original.warn;
		process.stdout.write = original.stdout;
		process.stderr.write = original.stderr;
		for (const key of Object.keys(process.env)) delete process.env[key];
		Object.assign(process.env, saved);
	}
}

/** `bedside <args>` as its own process (`node bin/bedside.js`), for the smoke test. */
export async function bedsideProcess(
	env: Record<string, string>,
	...args: string[]
): Promise<CliResult> {
	try {
		const { stdout, stderr } = await promisify(execFile)(
			process.execPath,
			[path.resolve('bin/bedside.js'), ...args],
			{ env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } }
		);
		return { code: 0, stdout, stderr };
	} catch (error) {
		const e = error as { code: number; stdout: string; stderr: string };
		return { code: e.code, stdout: e.stdout, stderr: e.stderr };
	}
}
