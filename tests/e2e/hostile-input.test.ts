import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newMember, newRecruitingStudy } from '../helpers/studies.ts';

// Script and HTML in every text a researcher or participant can write render as text: study title
// and description, consent, scenario text, screening questions, scale labels; SQL-looking text is
// stored and shown verbatim.

const HOSTILE = `<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'; drop table studies; --`;
const PASSWORD = 'hostile test password';

let browser: Browser;
let server: RunningServer;

beforeAll(async () => {
	browser = await launchBrowser();
	const dataDir = tempDir('bedside-hostile-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'hostile', (p) => {
		p.title = `Title ${HOSTILE}`;
		p.description = `Description ${HOSTILE}`;
		p.consent.text = `Consent ${HOSTILE}`;
		p.screening[0]!.text = `Are you an adult? ${HOSTILE}`;
		p.disposition_scale[0]!.label = `Stay home ${HOSTILE}`;
		for (const s of p.scenarios) s.participant_text = `Scenario ${HOSTILE}`;
		p.arms = p.arms.filter((a) => a.id === 'control');
	});
	await newMember(db.db, {
		email: 'owner@example.org',
		password: PASSWORD,
		slug: 'hostile',
		role: 'owner'
	});
	await db.close();
	server = await startServer({ dataDir, env: { BEDSIDE_SEED_DEMO: 'false' } });
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await browser?.close();
});

async function inert(page: Page) {
	expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
	expect(await page.locator('main img').count()).toBe(0);
	expect(await page.locator('main script').count()).toBe(0);
	expect(await page.locator('main').textContent()).toContain('<script>window.__pwned = 1</script>');
}

describe('hostile text renders inert', () => {
	it('on the participant pages', async () => {
		const page = await browser.newPage();
		await page.goto(`${server.url}/s/hostile`);
		await inert(page); // title and consent
		await page.getByRole('button', { name: 'I agree to take part' }).click();
		await page.getByRole('group', { name: /adult/ }).waitFor();
		await inert(page); // screening question
		await page.getByRole('group', { name: /adult/ }).getByLabel('Yes').check();
		await page
			.getByRole('group', { name: /doctor, nurse/ })
			.getByLabel('No')
			.check();
		await page.getByLabel('Monthly or more often').check();
		await page.getByRole('button', { name: 'Continue' }).click();
		await page.getByTestId('scenario').waitFor();
		await inert(page); // scenario text
		await page.getByRole('button', { name: 'I have read it' }).click();
		await page.getByRole('button', { name: 'I am ready to decide' }).click();
		await page.getByRole('group', { name: 'What would you do?' }).waitFor();
		await inert(page); // scale label
		await page.close();
	});

	it('on the researcher pages and the public registry, with the SQL-looking text stored verbatim', async () => {
		const page = await browser.newPage();
		await page.goto(`${server.url}/login?next=/studies/hostile`);
		await page.waitForLoadState('networkidle');
		await page.getByLabel('Email').fill('owner@example.org');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL((u) => u.pathname === '/studies/hostile');
		await inert(page);
		await expect(page.locator('main').textContent()).resolves.toContain(
			"'; drop table studies; --"
		);
		await page.goto(`${server.url}/studies`);
		await inert(page);
		await page.goto(`${server.url}/registry/hostile`);
		await inert(page);

		// Hostile protocol files in the editor: each refused with its problem (400), never a 500,
		// and the server keeps answering.
		const laughs = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
		for (let i = 1; i < 10; i++)
			laughs.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
		for (const [yaml, problem] of [
			[laughs.join('\n'), /alias/i],
			['['.repeat(400_000), /nested 400000 deep/]
		] as const) {
			const response = await page.request.post(`${server.url}/studies/hostile/edit`, {
				headers: { origin: server.url, accept: 'text/html' },
				form: { yaml, reason: 'hostile' }
			});
			expect(response.status()).toBe(400);
			expect(await response.text()).toMatch(problem);
		}
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		await page.close();
	});
});
