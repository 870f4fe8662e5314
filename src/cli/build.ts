import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// `npm start` builds only when the sources changed since the last build: a content hash of
// everything that goes into the bundle is stored beside it.

const ROOT = path.resolve(import.meta.dirname, '../..');
export const BUILD_DIR = path.join(ROOT, 'build');
/** The server entry `npm start` runs once the build is current (bin/serve.js says why). */
export const SERVE_ENTRY = path.join(ROOT, 'bin/serve.js');
const STAMP = path.join(BUILD_DIR, '.bedside-source-hash');
const LOCK = path.join(ROOT, '.build.lock');
const INPUTS = [
	'src',
	'analysis',
	'static',
	'migrations',
	'svelte.config.js',
	'vite.config.ts',
	'package-lock.json'
];

/** SHA-256 over the paths and contents of every build input. */
export function sourceHash(): string {
	const hash = createHash('sha256');
	const visit = (rel: string) => {
		const full = path.join(ROOT, rel);
		if (!fs.existsSync(full)) return;
		const stat = fs.statSync(full);
		if (stat.isDirectory()) {
			for (const name of fs.readdirSync(full).sort()) visit(path.join(rel, name));
		} else if (!/\.test\.ts$/.test(rel)) {
			hash.update(`${rel}\0`).update(fs.readFileSync(full)).update('\0');
		}
	};
	INPUTS.forEach(visit);
	return hash.digest('hex');
}

export function isBuildCurrent(): boolean {
	return (
		fs.existsSync(path.join(BUILD_DIR, 'index.js')) &&
		fs.existsSync(STAMP) &&
		fs.readFileSync(STAMP, 'utf8') === sourceHash()
	);
}

/**
 * Builds the server with Vite unless the build is current. Several processes (parallel test
 * files) may ask at once: a lock directory lets one build while the others wait for it.
 */
export async function ensureBuilt(log: (line: string) => void = console.log): Promise<void> {
	for (;;) {
		if (isBuildCurrent()) return;
		try {
			fs.mkdirSync(LOCK);
		} catch {
			// Someone else is building; a lock older than 10 minutes is left over from a crash.
			const age = Date.now() - fs.statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs;
			if (age > 10 * 60_000) fs.rmSync(LOCK, { recursive: true, force: true });
			await new Promise((r) => setTimeout(r, 500));
			continue;
		}
		try {
			if (isBuildCurrent()) return;
			const hash = sourceHash();
			log('Building Bedside (first start, or the sources changed); this takes a minute or two…');
			const started = Date.now();
			await runVite(log);
			log(`Built in ${Math.round((Date.now() - started) / 1000)} s.`);
			fs.writeFileSync(STAMP, hash);
			return;
		} finally {
			fs.rmSync(LOCK, { recursive: true, force: true });
		}
	}
}

// Vite prints its progress only to a terminal; these lines of its log say how far it got.
const PROGRESS =
	/^(vite v|✓ \d+ modules transformed|building (ssr|client)|✓ built in|> Using @sveltejs\/adapter-node| {2}✔ done)/;

/** Runs `vite build`, passing on its milestones and, every 15 s, how long it has been running. */
function runVite(log: (line: string) => void): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			[path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'],
			{
				cwd: ROOT,
				stdio: ['ignore', 'pipe', 'pipe']
			}
		);
		let output = '';
		let pending = '';
		const started = Date.now();
		const onData = (chunk: Buffer) => {
			output += chunk;
			const lines = (pending + chunk.toString()).split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) {
				// Colour codes (ESC [ … m) would keep the milestones from matching.
				const plain = line.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
				if (PROGRESS.test(plain)) log(`  ${plain.trim()}`);
			}
		};
		const heartbeat = setInterval(
			() => log(`  still building (${Math.round((Date.now() - started) / 1000)} s)…`),
			15_000
		);
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		child.on('error', reject);
		child.on('exit', (code) => {
			clearInterval(heartbeat);
			if (code === 0) resolve();
			else reject(new Error(`vite build failed (exit ${code}):\n${output}`));
		});
	});
}
