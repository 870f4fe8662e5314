import fs from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { answerScreening } from '../helpers/participant-page.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newMember, newRecruitingStudy } from '../helpers/studies.ts';

// The chat in a real browser against the built server, with the fake OpenAI-compatible endpoint
// streaming slowly enough to watch the reply arrive.

const HOSTILE_REPLY = [
	'**Rest** and ice the ankle.',
	'',
	'<script>window.__pwned = 1</script>',
	'<img src="x" onerror="window.__pwned = 2">',
	'![tracker](http://127.0.0.1:9/pixel.png)',
	'',
	'- elevate it',
	'- see your GP if it does not improve'
].join('\n');

const ANALYST_PASSWORD = 'a long analyst password';

let browser: Browser;
let fake: FakeOpenAi;
let server: RunningServer;

beforeAll(async () => {
	browser = await launchBrowser();
	fake = await startFakeOpenAi();
	const dataDir = tempDir('bedside-chat-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'chat', (p: StudyProtocol) => {
		p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
		p.outcomes.push({
			name: 'hospital_30d',
			role: 'secondary',
			kind: 'clinical',
			source: 'import'
		});
	});
	// An analyst of this study, for the coding page.
	await newMember(db.db, {
		email: 'analyst@example.org',
		password: ANALYST_PASSWORD,
		slug: 'chat',
		role: 'analyst'
	});
	await db.close();
	server = await startServer({
		dataDir,
		env: { BEDSIDE_LLM_BASE_URL: fake.url, BEDSIDE_LLM_RETRY_SECONDS: '1', BODY_SIZE_LIMIT: '6M' }
	});
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await fake?.close();
	await browser?.close();
});

async function submit(page: Page, name: string | RegExp) {
	await Promise.all([
		page.waitForResponse(
			(r) =>
				r.request().method() === 'GET' &&
				(r.url().includes('__data.json') || r.request().resourceType() === 'document')
		),
		page.getByRole('button', { name }).click()
	]);
}

async function toTheAssistant(page: Page, pid: string) {
	await page.goto(`${server.url}/s/chat?PROLIFIC_PID=${pid}`);
	await page.waitForLoadState('networkidle');
	await submit(page, 'I agree to take part');
	await answerScreening(page);
	await submit(page, 'Continue');
	await submit(page, 'I have read it');
	await page.getByLabel('Your message').waitFor();
}

const messages = (page: Page) =>
	page.locator('[data-testid="transcript"] .message:not(.streaming)');

describe('chatting with the assistant in the browser', () => {
	it('streams a reply into the page, renders it safely, and restores the transcript on reload', async () => {
		const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
		await toTheAssistant(page, 'chat-1');
		fake.reply = () => HOSTILE_REPLY;
		fake.tokenDelayMs = 60;
		await page.getByLabel('Your message').fill('I twisted my ankle.');
		await page.getByRole('button', { name: 'Send' }).click();
		// Part of the reply is on the page before all of it has arrived.
		const streaming = page.getByTestId('streaming');
		await streaming.getByText('Rest').waitFor();
		const partial = (await streaming.textContent()) ?? '';
		expect(partial.length).toBeGreaterThan(0);
		expect(partial).not.toContain('see your GP if it does not improve');
		await messages(page).getByText('see your GP if it does not improve').waitFor();
		fake.tokenDelayMs = 0;

		await expect(messages(page).count()).resolves.toBe(2);
		const reply = messages(page).nth(1);
		await expect(reply.locator('strong').textContent()).resolves.toBe('Rest');
		await expect(reply.locator('li').count()).resolves.toBe(2);
		// The hostile parts are inert text: no script ran, no image element, no request for it.
		await expect(reply.locator('script, img').count()).resolves.toBe(0);
		await expect(reply.textContent()).resolves.toContain('<script>window.__pwned = 1</script>');
		await expect(page.evaluate(() => (window as { __pwned?: number }).__pwned)).resolves.toBe(
			undefined
		);

		await page.reload();
		await expect(messages(page).count()).resolves.toBe(2);
		await expect(messages(page).nth(0).textContent()).resolves.toContain('I twisted my ankle.');
		await expect(messages(page).nth(1).locator('strong').textContent()).resolves.toBe('Rest');
		await page.close();
	});

	it('keeps the message when the assistant fails, and answers it when sent again', async () => {
		const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
		await toTheAssistant(page, 'chat-2');
		fake.reply = (body) => `About "${body.messages.at(-1)?.content}": please rest.`;
		fake.enqueue(...Array.from({ length: 30 }, () => ({ kind: 'status' as const, status: 503 })));
		await page.getByLabel('Your message').fill('Is my ankle broken?');
		await page.getByRole('button', { name: 'Send' }).click();
		await page.getByTestId('chat-failure').waitFor();
		await expect(page.getByTestId('chat-failure').textContent()).resolves.toMatch(
			/could not answer just now/
		);
		await expect(messages(page).count()).resolves.toBe(1);
		// Still there after a reload, waiting for a reply.
		await page.reload();
		await expect(messages(page).nth(0).textContent()).resolves.toContain('Is my ankle broken?');
		await expect(page.getByLabel('Your message').isDisabled()).resolves.toBe(true);
		fake.clear();
		await page.getByRole('button', { name: 'Send it again' }).click();
		await messages(page).getByText('About "Is my ankle broken?": please rest.').waitFor();
		await expect(messages(page).count()).resolves.toBe(2);
		await expect(page.getByLabel('Your message').isDisabled()).resolves.toBe(false);
		await page.close();
	});

	it("shows the study's emergency notice when a message matches, then goes on to the decision", async () => {
		const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
		await toTheAssistant(page, 'chat-3');
		await page.getByLabel('Your message').fill('I have chest pain and I am breathless');
		await page.keyboard.press('Control+Enter');
		await page.getByTestId('safety-notice').waitFor();
		await expect(page.getByTestId('safety-notice').textContent()).resolves.toContain('999');
		// The notice comes before the reply: wait for the stored reply before counting.
		await messages(page).nth(1).waitFor();
		await expect(messages(page).count()).resolves.toBe(2);
		await page.reload();
		await page.getByTestId('safety-notice').waitFor();
		await submit(page, 'I am ready to decide');
		await page.getByRole('group', { name: 'What would you do?' }).waitFor();
		await page.close();
	});

	it('lets an analyst code each conversation blind to arm; a coding is kept as recorded', async () => {
		const page = await browser.newPage();
		await page.goto(`${server.url}/login?next=/studies/chat/coding`);
		await page.waitForLoadState('networkidle'); // hydrated: typing is not reset
		await page.getByLabel('Email').fill('analyst@example.org');
		await page.getByLabel('Password').fill(ANALYST_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL((u) => u.pathname === '/studies/chat/coding');
		// The three conversations above have assistant replies.
		await expect(page.getByTestId('coding-progress').textContent()).resolves.toMatch(
			/coded 0 of 3/
		);
		await page.getByRole('link', { name: 'Code the next conversation' }).click();
		await page.getByTestId('coding-transcript').waitFor();
		const body = (await page.textContent('main')) ?? '';
		expect(body).not.toContain('assistant_llm'); // blind to arm
		// Submitting without a disposition is refused by the browser; a valid coding moves on.
		await page.getByLabel('Look after myself at home').check();
		await page.getByRole('button', { name: 'Save and go to the next' }).click();
		await page.waitForURL(
			(u) => /\/coding\/[0-9a-f-]{36}$/.test(u.pathname) || u.pathname.endsWith('/coding')
		);
		await page.goto(`${server.url}/studies/chat/coding`);
		await expect(page.getByTestId('coding-progress').textContent()).resolves.toMatch(
			/coded 1 of 3/
		);
		// Another study's or a made-up conversation is not found.
		const missing = await page.goto(
			`${server.url}/studies/chat/coding/00000000-0000-0000-0000-000000000000`
		);
		expect(missing?.status()).toBe(404);
		// The study page shows the assistant's health and the deviation of the failed reply.
		await page.goto(`${server.url}/studies/chat`);
		// …the enrollment so far (the three participants above, all allocated, none finished)…
		const consort = ((await page.getByTestId('consort').textContent()) ?? '').replace(/\s+/g, ' ');
		expect(consort).toMatch(
			/Consented 3 · declined 0 · screened out 0 · allocated 3 · in progress 3 · completed 0 · withdrawn 0/
		);
		const health = page.getByTestId('assistant-health');
		await expect(health.textContent()).resolves.toMatch(/Protocol deviations \(1\)/);
		await expect(page.getByTestId('deviations').textContent()).resolves.toMatch(
			/the assistant failed a participant: the endpoint answered 503/
		);
		// The analyst reads the analysis so far…
		await page.getByRole('link', { name: 'The analysis so far (report)' }).click();
		await page.getByTestId('report').waitFor();
		await expect(page.getByTestId('report').textContent()).resolves.toMatch(
			/Participant flow \(CONSORT 2010\).*consented: 3\./s
		);
		const report = await page.request.get(`${server.url}/studies/chat/report.md`);
		expect(report.headers()['content-type']).toContain('text/markdown');
		expect(await report.text()).toMatch(/^# .*: analysis/);
		// …sees the charts, downloads the self-contained HTML report and writes the evidence.
		await expect(
			page.locator('[data-testid="report"] figure svg').count()
		).resolves.toBeGreaterThan(0);
		const html = await page.request.get(`${server.url}/studies/chat/report.html`);
		expect(html.headers()['content-type']).toContain('text/html');
		const htmlText = await html.text();
		expect(htmlText).toContain('<title>CONSORT 2010 flow diagram</title>');
		// Opened in the browser, the interim report logs no error (a chart at NaN would).
		const reader = await page.context().browser()!.newPage();
		const errors: string[] = [];
		reader.on('pageerror', (e) => errors.push(e.message));
		reader.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
		await reader.setContent(htmlText, { waitUntil: 'load' });
		await expect(reader.locator('figure svg').count()).resolves.toBeGreaterThan(0);
		await reader.close();
		expect(errors).toEqual([]);
		// An interim look: nothing to write to the public cards until the study closes.
		await expect(page.getByTestId('interim').textContent()).resolves.toMatch(/not closed/);
		expect(
			await page
				.getByRole('button', { name: 'Write these estimates to the benchmark cards' })
				.count()
		).toBe(0);
		await page.goto(`${server.url}/studies/chat`);
		// The analyst downloads the export, scrubbed, as a zip.
		await page.getByLabel('Scrub emails, phone numbers and URLs from free text').check();
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			page.getByRole('button', { name: 'Download the export' }).click()
		]);
		expect(download.suggestedFilename()).toMatch(/^chat-export-\d{4}-\d{2}-\d{2}\.zip$/);
		const files = unzipSync(new Uint8Array(fs.readFileSync((await download.path())!)));
		expect(Object.keys(files)).toContain('chat/codebook.json');
		const exportReport = JSON.parse(strFromU8(files['chat/export_report.json']!));
		expect(exportReport.options).toEqual({ free_text: true, scrub: true, formula_safe: true });
		expect(exportReport.rows['messages.csv']).toBeGreaterThanOrEqual(5);

		// …and imports a follow-up outcome for the participants the export lists: a bad file is
		// refused whole with its rows named, a good one is imported.
		const ids = strFromU8(files['chat/participants.csv']!)
			.trim()
			.split('\n')
			.slice(1)
			.map((line) => line.split(',')[0]!);
		await page.getByRole('link', { name: /Import outcomes/ }).click();
		await page.waitForURL('**/studies/chat/outcomes');
		await page.waitForLoadState('networkidle');
		const upload = async (csv: string) => {
			await page.getByLabel('CSV file').setInputFiles({
				name: 'outcomes.csv',
				mimeType: 'text/csv',
				buffer: Buffer.from(csv)
			});
			await page.getByRole('button', { name: 'Check and import' }).click();
		};
		await upload(
			`participant_id,episode,measure,value\n${ids[0]},1,hospital_30d,1\nnobody,1,hospital_30d,3\n`
		);
		await expect(page.getByTestId('import-problems').textContent()).resolves.toMatch(
			/Nothing was imported\. 2 problem\(s\):.*row 3, participant_id.*row 3, value/s
		);
		await upload(
			`participant_id,episode,measure,value\n${ids.map((id, i) => `${id},1,hospital_30d,${i % 2}`).join('\n')}\n`
		);
		await expect(page.getByTestId('import-result').textContent()).resolves.toContain(
			`Imported ${ids.length} values.`
		);
		await page.close();
	});
});
