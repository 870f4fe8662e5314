import { spawn } from 'node:child_process';
import { loadConfig } from '../lib/server/config.ts';
import { ensureBuilt, SERVE_ENTRY } from './build.ts';

/**
 * `bedside start` (`npm start`): check the environment, build if needed, then run the built
 * server. The server migrates, seeds the demo study into an empty database and prints where it
 * listens. Ctrl-C (or SIGTERM) is passed on, and the server shuts down cleanly.
 */
export async function runStart(args: string[]): Promise<number> {
	if (args.length > 0) {
		console.error(
			`bedside start: takes no arguments (got ${args.join(' ')}); configure it with environment variables`
		);
		return 2;
	}
	loadConfig(); // fail before a long build when the environment is wrong
	await ensureBuilt();
	const server = spawn(process.execPath, [SERVE_ENTRY], { stdio: 'inherit', env: process.env });
	const forward = (signal: NodeJS.Signals) => server.kill(signal);
	process.on('SIGINT', forward);
	process.on('SIGTERM', forward);
	return new Promise((resolve) => {
		server.on('exit', (code, signal) => {
			process.off('SIGINT', forward);
			process.off('SIGTERM', forward);
			resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
		});
	});
}
