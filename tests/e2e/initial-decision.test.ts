import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { answerScreening, submit } from '../helpers/participant-page.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

// A study that asks for a decision before the advice (the judge–advisor design), walked on a
// phone-sized screen with JavaScript off: every step is a plain form post.

describe('a decision before the advice, in the browser', () => {
	let browser: Browser;
	let server: RunningServer;
	beforeAll(async () => {
		browser = await launchBrowser();
		const dataDir = tempDir('bedside-initial-e2e-');
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
		await migrateToLatest(db.db);
		await newRecruitingStudy(db.db, 'judge', (p) => {
			p.initial_decision = { show_on_final: 'remind' };
			p.arms = p.arms.filter((a) => a.kind === 'control');
		});
		await db.close();
		server = await startServer({ dataDir });
	});
	afterAll(async () => {
		await server?.stop('SIGKILL');
		await browser?.close();
	});

	it('asks first, then after the usual sources reminds of the first answer', async () => {
		const context = await browser.newContext({
			javaScriptEnabled: false,
			viewport: { width: 390, height: 844 }
		});
		const page = await context.newPage();
		await page.goto(`${server.url}/s/judge`);
		await submit(page, 'I agree to take part');
		await answerScreening(page);
		await submit(page, 'Continue');
		await submit(page, 'I have read it');
		const initial = page.getByTestId('initial-decision');
		await expect(initial.textContent()).resolves.toMatch(
			/Before you look anything up: what would you do\?/
		);
		const first = initial.getByRole('radio').first();
		const label = ((await initial.locator('label.point').first().textContent()) ?? '').trim();
		await first.check();
		await submit(page, 'Continue');
		await expect(page.getByTestId('usual-sources').count()).resolves.toBe(1);
		await submit(page, 'I am ready to decide');
		await expect(page.getByTestId('initial-reminder').textContent()).resolves.toBe(
			`Your first answer was: ${label}.`
		);
		await page.getByRole('radio').last().check();
		await submit(page, 'Submit my decision');
		await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
			'About your decision'
		);
		// Nothing overflows the phone's width (measured by the test, not by the page's own script).
		const overflow = await page.evaluate(
			() => document.documentElement.scrollWidth - document.documentElement.clientWidth
		);
		expect(overflow).toBeLessThanOrEqual(0);
		await context.close();
	});
});
