import { describe, expect, it } from 'vitest';
import { startServer, tempDir } from '../helpers/server.ts';
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
		const server = await startServer({ waitForHealthy: false, env: { DATABASE_POOL_SIZE: '0' } });
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
