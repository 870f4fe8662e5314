import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';

let browser: Browser;
beforeAll(async () => {
	browser = await launchBrowser();
});
afterAll(() => browser?.close());

describe.each(databaseKinds())('the built server on %s', (kind) => {
	let server: RunningServer;
	let dataDir: string | undefined;
	let databaseUrl: string | undefined;
	let dropDatabase = async () => {};

	beforeAll(async () => {
		if (kind === 'pg') {
			// An empty, unmigrated database: the server must migrate and seed it itself.
			const created = await createPgTestDatabase({ migrated: false });
			databaseUrl = created.url;
			dropDatabase = created.drop;
		} else {
			dataDir = tempDir('bedside-home-');
		}
		server = await startServer({ databaseUrl, dataDir });
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await dropDatabase();
	});

	it('renders the home page in Chromium, without unpublished drafts', async () => {
		const page = await browser.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
		const response = await page.goto(server.url);
		expect(response?.status()).toBe(200);
		await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Bedside');
		// The seeded example is a draft: it is not shown to the public.
		await expect(page.locator('main').textContent()).resolves.toMatch(
			/Preregistered studies on this server\s*None yet/
		);
		expect(await page.content()).not.toContain('triage-demo');
		// Hydration ran and nothing (CSP included) was blocked.
		expect(errors).toEqual([]);
		await page.close();
	});

	it('answers /healthz green, in the browser too', async () => {
		const page = await browser.newPage();
		const response = await page.goto(`${server.url}/healthz`);
		expect(response?.status()).toBe(200);
		const health = JSON.parse((await page.textContent('body')) ?? '');
		expect(health).toMatchObject({
			status: 'ok',
			app: { up: true },
			database: { up: true, kind },
			migrations: { upToDate: true }
		});
		expect(health.migrations.current).toMatch(/^\d{4}_\d{2}_\d{2}_\d{4}_/);
		await page.close();
	});

	it('sends security headers: a CSP without unsafe-inline scripts, no framing, a referrer policy', async () => {
		const response = await fetch(server.url);
		const csp = response.headers.get('content-security-policy') ?? '';
		expect(csp).toMatch(/frame-ancestors 'none'/);
		expect(csp).toMatch(/script-src 'self'/);
		expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
		expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
	});

	it('exits cleanly on SIGTERM and keeps its data across a restart', async () => {
		expect(await server.stop('SIGTERM')).toBe(0);
		server = await startServer({ databaseUrl, dataDir });
		expect(server.output()).not.toMatch(/applied \d+ migration/);
		expect(server.output()).not.toMatch(/seeded the example study/);
		// The data survived: the admin account exists, so no new one-time password is printed.
		expect(server.output()).not.toMatch(/one-time password/);
		expect(server.output()).toMatch(/sign in at http/);
		// A draft has no participant page, like a study that does not exist.
		expect((await fetch(`${server.url}/s/triage-demo`)).status).toBe(404);
	});
});
