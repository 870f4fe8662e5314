import type { Browser, BrowserContext, Page } from 'playwright-core';
import { answerScreening, consentOverHttp, submit } from '../helpers/participant-page.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

// One person, one participant, and only that person: a second device, a stale device, a shared
// browser, someone who knows another's panel id, and leaving, each walked in a real browser.

let browser: Browser;
let server: RunningServer;
let dataDir: string;

beforeAll(async () => {
	dataDir = tempDir('bedside-identity-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'who');
	await db.close();
	server = await startServer({ dataDir });
	browser = await launchBrowser();
});
afterAll(async () => {
	await browser?.close();
	await server?.stop('SIGKILL');
});

/** A device: its own browser profile (cookies), on a phone-sized screen. */
async function device(options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
	return browser.newContext({ viewport: { width: 390, height: 844 }, ...options });
}

async function consentAndScreen(page: Page, pid: string) {
	await page.goto(`${server.url}/s/who?PROLIFIC_PID=${pid}`);
	await submit(page, 'I agree to take part');
	await answerScreening(page);
	await submit(page, 'Continue');
	await page.getByText('Situation 1 of 2').waitFor();
}

describe('one person, one participant (embedded database, Chromium)', () => {
	it('participant pages link nowhere: no registry, no sign-in', async () => {
		const phone = await device();
		const page = await phone.newPage();
		await page.goto(`${server.url}/s/who?PROLIFIC_PID=links-1`);
		expect(await page.locator('a').count()).toBe(0);
		await expect(page.getByText('Registry').count()).resolves.toBe(0);
		await phone.close();
	});

	it('a second device continues only with the resume code; the first is told, never re-enrolled', async () => {
		const phone = await device();
		const laptop = await device();
		const first = await phone.newPage();
		await consentAndScreen(first, 'moves-1');
		const code = (await first.getByTestId('resume-code').locator('strong').textContent())!.trim();
		expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);

		// The laptop with the same link: asked for the code, shown nothing of the participant.
		const second = await laptop.newPage();
		await second.goto(`${server.url}/s/who?PROLIFIC_PID=moves-1`);
		await expect(second.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
			'Continue where you left off'
		);
		expect(await second.getByTestId('scenario').count()).toBe(0);
		await second.getByLabel('Resume code').fill('AAAAA-AAAAA');
		await submit(second, 'Continue here');
		await expect(second.locator('.field-error').textContent()).resolves.toMatch(/does not match/);
		await second.getByLabel('Resume code').fill(code.toLowerCase());
		await submit(second, 'Continue here');
		await expect(second.getByText('Situation 1 of 2').count()).resolves.toBe(1);
		await submit(second, 'I have read it');

		// The phone's next click: a clear page, no consent form, no second participant.
		await submit(first, 'I have read it');
		await expect(first.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
			'This study continues on another device'
		);
		await first.reload();
		expect(await first.getByRole('button', { name: 'I agree to take part' }).count()).toBe(0);
		// Back to the phone with the code: the session comes back, at the step the laptop reached.
		await first.getByLabel('Resume code').fill(code);
		await submit(first, 'Continue here');
		await first.getByRole('button', { name: 'I am ready to decide' }).waitFor();
		await phone.close();
		await laptop.close();
	});

	it('a shared browser: another panel id starts its own participant, never the first one', async () => {
		const labComputer = await device();
		const page = await labComputer.newPage();
		await consentAndScreen(page, 'shared-a');
		const codeA = await page.getByTestId('resume-code').locator('strong').textContent();
		await page.goto(`${server.url}/s/who?PROLIFIC_PID=shared-b`);
		await expect(page.getByRole('button', { name: 'I agree to take part' }).count()).resolves.toBe(
			1
		);
		expect(await page.getByTestId('scenario').count()).toBe(0);
		await consentAndScreen(page, 'shared-b');
		const codeB = await page.getByTestId('resume-code').locator('strong').textContent();
		expect(codeB).not.toBe(codeA);
		await labComputer.close();
	});

	it('without JavaScript: leaving asks first, and a finished participant can clear the browser', async () => {
		const noScript = await device({ javaScriptEnabled: false });
		const page = await noScript.newPage();
		await page.goto(`${server.url}/s/who?PROLIFIC_PID=leaver-1`);
		await page.getByRole('button', { name: 'I agree to take part' }).click();
		await page.getByRole('button', { name: 'Leave the study' }).click();
		await expect(page.getByRole('heading', { name: 'Leave the study?' }).count()).resolves.toBe(1);
		await page.getByRole('link', { name: 'No, continue' }).click();
		await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
			'A few questions first'
		);
		await page.getByRole('button', { name: 'Leave the study' }).click();
		await page.getByRole('button', { name: 'Yes, leave the study' }).click();
		await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
			'You have left the study'
		);
		await page.getByRole('button', { name: 'Clear my session from this browser' }).click();
		await expect(page.getByRole('button', { name: 'I agree to take part' }).count()).resolves.toBe(
			1
		);
		await noScript.close();
	});

	it("takes a participant's telemetry only from the study's own pages", async () => {
		const { cookie: session } = await consentOverHttp(server.url, 'who', 'telemetry-1', 'yes');
		const cookie = session!;
		const send = (origin: string) =>
			fetch(`${server.url}/s/who/events`, {
				method: 'POST',
				headers: { origin, cookie, 'content-type': 'application/json' },
				body: JSON.stringify([{ kind: 'page_blur', episode: null, at: new Date().toISOString() }])
			});
		expect((await send('https://evil.example')).status).toBe(403);
		const ok = await send(server.url);
		expect(ok.status).toBe(200);
		expect(await ok.json()).toEqual({ stored: 1 });
	});

	it('declining says exactly what is kept', async () => {
		const phone = await device();
		const page = await phone.newPage();
		await page.goto(`${server.url}/s/who?PROLIFIC_PID=decliner-1&STUDY_ID=s&SESSION_ID=x`);
		await submit(page, 'I do not want to take part');
		await expect(page.getByTestId('declined-kept').textContent()).resolves.toMatch(
			/keyed hash of your\s+panel id/
		);
		expect(await page.getByTestId('resume-code').count()).toBe(0);
		await phone.close();
	});
});
