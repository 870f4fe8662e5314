import http from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { databaseKinds, createPgTestDatabase } from '../helpers/database.ts';

describe('start-up', () => {
	it('`npm start` refuses a bad environment with one clear line per problem and exit code 1', async () => {
		const server = await startServer({
			entry: 'start',
			waitForHealthy: false,
			env: { ORIGIN: 'not a url', BEDSIDE_SEED_DEMO: 'perhaps' }
		});
		expect(await server.exited).toBe(1);
		expect(server.output()).toContain('Bedside cannot start: the environment has 2 problem(s):');
		expect(server.output()).toMatch(/ORIGIN: must be a URL/);
		expect(server.output()).toMatch(
			/BEDSIDE_SEED_DEMO: must be one of 1, 0, true, false, yes, no \(got "perhaps"\)/
		);
		expect(server.output()).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
	});

	it('`node build` refuses a bad Bedside variable the same way', async () => {
		const server = await startServer({
			entry: 'node-build',
			waitForHealthy: false,
			env: { DATABASE_POOL_SIZE: '0' }
		});
		expect(await server.exited).toBe(1);
		expect(server.output()).toContain('DATABASE_POOL_SIZE: must be at least 1 (got "0")');
		expect(server.output()).not.toMatch(/\bat .*\.js:\d+/);
	});

	it('refuses to open an embedded database another process holds', async () => {
		const dataDir = tempDir('bedside-shared-');
		const first = await startServer({ dataDir });
		try {
			const second = await startServer({ dataDir, waitForHealthy: false });
			expect(await second.exited).toBe(1);
			expect(second.output()).toMatch(/is in use by process \d+/);
		} finally {
			await first.stop();
		}
	});

	it.runIf(databaseKinds().includes('pg'))(
		'reports the database down (503) when PostgreSQL goes away',
		async () => {
			const { url, drop } = await createPgTestDatabase();
			const server = await startServer({ databaseUrl: url });
			try {
				await drop(); // DROP DATABASE … WITH (FORCE) closes the server's connections
				const response = await fetch(`${server.url}/healthz`);
				expect(response.status).toBe(503);
				expect(await response.json()).toMatchObject({
					status: 'down',
					database: { up: false, kind: 'pg' }
				});
			} finally {
				await server.stop('SIGKILL');
			}
		}
	);
});

describe('a newcomer on `npm start` (no ORIGIN, embedded database)', () => {
	let server: RunningServer;
	let browser: Browser;
	beforeAll(async () => {
		server = await startServer({ entry: 'start', dataDir: tempDir('bedside-newcomer-') });
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
		await server?.stop();
	});

	it('signs in from the browser at http://localhost with the printed one-time password', async () => {
		expect(server.output()).not.toMatch(/ORIGIN/);
		const [, email, otp] = /as (\S+) with the one-time password (\S+)/.exec(server.output()) ?? [];
		const page = await browser.newPage();
		try {
			await page.goto(`http://localhost:${server.port}/login`);
			await page.waitForLoadState('networkidle');
			await page.getByLabel('Email').fill(email!);
			await page.getByLabel('Password').fill(otp!);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await page.waitForURL('**/account/password');
			expect(new URL(page.url()).origin).toBe(`http://localhost:${server.port}`);
		} finally {
			await page.close();
		}
	});

	it.each(['localhost', '127.0.0.1'])(
		'accepts a same-origin form post at http://%s and refuses a cross-site one',
		async (host) => {
			const origin = `http://${host}:${server.port}`;
			const post = (from: string, extra: Record<string, string> = {}) =>
				fetch(`${origin}/login`, {
					method: 'POST',
					redirect: 'manual',
					headers: {
						origin: from,
						'content-type': 'application/x-www-form-urlencoded',
						accept: 'text/html',
						...extra
					},
					body: 'email=nobody%40example.org&password=wrong'
				});
			// Same origin: the form is answered (a wrong password is a 400, not a 403).
			expect((await post(origin)).status).toBe(400);
			expect((await post('http://evil.example')).status).toBe(403);
			// A client cannot claim the socket is https to pass as another origin.
			const spoofed = await post(`https://${host}:${server.port}`, {
				'x-bedside-socket-protocol': 'https'
			});
			expect(spoofed.status).toBe(403);
		}
	);

	it.runIf(databaseKinds().includes('pg'))(
		'on PostgreSQL, serves one port from several workers, and stops them all',
		async () => {
			const { url, drop } = await createPgTestDatabase();
			const server = await startServer({ databaseUrl: url, env: { BEDSIDE_WORKERS: '2' } });
			try {
				await expect.poll(() => server.output(), { timeout: 30_000 }).toMatch(/worker 2 ready/);
				expect(server.output()).toMatch(/2 worker processes/);
				expect(server.output().match(/Listening on/g)).toHaveLength(1);
				const pids = new Set<number>();
				// A new connection each time (fetch would keep one alive, and with it one worker).
				const healthOnNewConnection = () =>
					new Promise<{ app: { worker: { pid: number } } }>((resolve, reject) => {
						http
							.get(`${server.url}/healthz`, { agent: false }, (res) => {
								let body = '';
								res.on('data', (c) => (body += c));
								res.on('end', () => resolve(JSON.parse(body)));
							})
							.on('error', reject);
					});
				for (let i = 0; i < 40 && pids.size < 2; i++)
					pids.add((await healthOnNewConnection()).app.worker.pid);
				expect(pids.size).toBe(2);
				expect(pids.has(server.process.pid!)).toBe(false); // the primary only supervises
				expect(await server.stop('SIGTERM')).toBe(0);
				for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(); // none left behind
			} finally {
				await server.stop('SIGKILL').catch(() => {});
				await drop();
			}
		}
	);

	it('on the embedded database, says it runs one worker whatever BEDSIDE_WORKERS asks', async () => {
		const server = await startServer({ env: { BEDSIDE_WORKERS: '4' } });
		try {
			expect(server.output()).toMatch(
				/BEDSIDE_WORKERS=4 ignored: the embedded database is one process's/
			);
			const health = await (await fetch(`${server.url}/healthz`)).json();
			expect(health.app.worker.pid).toBe(server.process.pid);
		} finally {
			await server.stop();
		}
	});
});
