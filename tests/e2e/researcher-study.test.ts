import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { preregister } from '../../src/lib/server/prereg/prereg.service.ts';
import { saveProtocolDraft } from '../../src/lib/server/studies/studies.service.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { answerScreening, consentOverHttp } from '../helpers/participant-page.ts';
import { ensureCards, exampleProtocol, newMember } from '../helpers/studies.ts';

// A researcher's day with a study, in a browser without JavaScript (the forms must work without
// it): the participant link and Prolific's URL, test mode that leaves the counts alone, each
// irreversible step asked twice, and matching panel ids for payment.

const PASSWORD = 'researcher password 1';
let server: RunningServer;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
	dataDir = tempDir('bedside-researcher-study-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await ensureCards(db.db);
	await saveProtocolDraft(db.db, { ...exampleProtocol(), slug: 'rs' }, CLI_ACTOR);
	await preregister(db.db, 'rs', CLI_ACTOR, { seed: 'rs-seed-1234' });
	await newMember(db.db, {
		email: 'owner@example.org',
		password: PASSWORD,
		slug: 'rs',
		role: 'owner'
	});
	await db.close();
	server = await startServer({ dataDir, env: { BEDSIDE_SEED_DEMO: 'false' } });
	browser = await launchBrowser();
});
afterAll(async () => {
	await browser?.close();
	await server?.stop('SIGKILL');
});

async function signedIn(): Promise<Page> {
	const context = await browser.newContext({ javaScriptEnabled: false });
	const page = await context.newPage();
	await page.goto(`${server.url}/login`);
	await page.getByLabel('Email').fill('owner@example.org');
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL('**/studies');
	return page;
}

const consortText = async (page: Page) =>
	((await page.getByTestId('consort').textContent()) ?? '').replace(/\s+/g, ' ');

describe('a researcher runs a study (no JavaScript)', () => {
	it('sees the participant link, tries the study in test mode, and the counts stay at zero', async () => {
		const page = await signedIn();
		await page.goto(`${server.url}/studies/rs`);
		await expect(page.getByTestId('participant-link').textContent()).resolves.toContain(
			`${server.url}/s/rs`
		);
		await expect(page.getByTestId('prolific-url').textContent()).resolves.toBe(
			`${server.url}/s/rs?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}`
		);
		// Test mode before launch, in the arm the researcher picks.
		await page.getByLabel('Arm').selectOption('control');
		await page.getByRole('button', { name: 'Start a test participant' }).click();
		await page.waitForURL('**/s/rs');
		await expect(page.getByRole('status').textContent()).resolves.toMatch(/Test mode/);
		await answerScreening(page);
		await page.getByRole('button', { name: 'Continue' }).click();
		await page.getByRole('button', { name: 'I have read it' }).click();
		// The control arm, as chosen: the usual-sources instruction, no chat.
		await expect(page.getByTestId('usual-sources').count()).resolves.toBe(1);
		await page.goto(`${server.url}/studies/rs`);
		expect(await consortText(page)).toMatch(
			/Consented 0 · declined 0 · screened out 0 · allocated 0/
		);
		// The analysis of a study nobody has decided in yet says so (the test participant is not counted).
		await page.goto(`${server.url}/studies/rs/analysis`);
		await expect(page.getByTestId('no-decisions').textContent()).resolves.toMatch(
			/No decisions yet/
		);
		await page.context().close();
	});

	it('asks before launching and before closing; cancelling changes nothing', async () => {
		const page = await signedIn();
		await page.goto(`${server.url}/studies/rs`);
		await page.getByRole('button', { name: 'Launch recruiting' }).click();
		await expect(page.getByRole('alertdialog').textContent()).resolves.toMatch(
			/anyone who has it can take part/
		);
		await page.getByRole('link', { name: 'Cancel' }).click();
		await expect(page.getByTestId('study-status').textContent()).resolves.toBe('preregistered');
		await page.getByRole('button', { name: 'Launch recruiting' }).click();
		await page.getByRole('button', { name: 'Yes, launch recruiting' }).click();
		await expect(page.getByTestId('study-status').textContent()).resolves.toBe('recruiting');

		await page.getByRole('button', { name: 'Close the study and reveal the seed' }).click();
		await expect(page.getByRole('alertdialog').textContent()).resolves.toMatch(/never reopens/);
		expect(await page.getByTestId('study-status').textContent()).toBe('recruiting');
		await page.context().close();
	});

	it('matches pasted panel ids to how each session ended, and audits it', async () => {
		// Two people through the link: one declines, one consents.
		for (const [pid, agree] of [
			['P-DECLINES', 'no'],
			['P-CONSENTS', 'yes']
		] as const) {
			const posted = await consentOverHttp(server.url, 'rs', pid, agree);
			expect(posted.status).toBe(303);
		}
		const page = await signedIn();
		await page.goto(`${server.url}/studies/rs`);
		await page.getByRole('link', { name: /Match panel submissions/ }).click();
		await page
			.getByLabel('Panel ids')
			.fill(
				'participant_id,status\nP-CONSENTS,AWAITING REVIEW\nP-DECLINES,RETURNED\nP-NEVER,TIMED-OUT\n'
			);
		await page.getByRole('button', { name: 'Match' }).click();
		await expect(page.getByTestId('panel-summary').textContent()).resolves.toMatch(
			/3 id\(s\): in progress 1, declined consent 1, no record 1/
		);
		await page.goto(`${server.url}/studies/rs/audit`);
		await expect(page.locator('main').textContent()).resolves.toMatch(/panel\.match/);
		await page.context().close();
	});

	it('makes a personal access token, sees it once, uses it, and revokes it', async () => {
		const page = await signedIn();
		await page.getByRole('link', { name: 'Access tokens' }).click();
		await page.getByLabel('Name').fill('notebook');
		await page.getByRole('checkbox', { name: /rs/ }).check();
		await page.getByLabel('Role').selectOption('viewer');
		await page.getByRole('button', { name: 'Create token' }).click();
		const secret = (await page
			.locator('[data-testid="token-created"] code')
			.first()
			.textContent())!;
		expect(secret).toMatch(/^bsd_pat_[A-Za-z0-9_-]{43}$/);
		const status = () =>
			fetch(`${server.url}/api/v1/studies/rs/monitoring`, {
				headers: { authorization: `Bearer ${secret}` }
			});
		const ok = await status();
		expect(ok.status).toBe(200);
		expect((await ok.json()).slug).toBe('rs');
		// Shown once: a reload shows the list, not the secret.
		await page.goto(`${server.url}/account/tokens`);
		expect(await page.content()).not.toContain(secret);
		await expect(page.getByTestId('tokens').textContent()).resolves.toMatch(
			/notebook\s*viewer\s*rs/
		);
		await page.getByRole('button', { name: 'Revoke notebook' }).click();
		await expect(page.getByTestId('tokens').textContent()).resolves.toMatch(/revoked/);
		expect((await status()).status).toBe(401);
		await page.context().close();
	});
});
