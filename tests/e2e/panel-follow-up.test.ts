import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { runBots, type BotRunSummary } from '../../src/bots/run-bots.ts';
import type { BotResult } from '../../src/bots/bot.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { studyExport } from '../../src/lib/server/export/export.service.ts';
import { writeExportToDir } from '../../src/lib/server/export/writers.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { expectConsortAddsUp } from '../helpers/consort.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { startFakeProlific, type FakeProlific } from '../helpers/fake-prolific.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { exampleProtocol, newMember, newRecruitingStudy } from '../helpers/studies.ts';

// A Prolific study end to end: bots walk every ending (declined, screened out, withdrew, failed
// the attention check, completed) and the follow-up; each is shown its ending's code; the owner
// reviews the Prolific study's submissions in a browser and approves, rejects, screens out and
// pays the bonus through a fake Prolific API that fails part-way (nothing is recorded as done
// that was not, nothing is done twice); the export and the analysis count what the bots did.

const CODES = {
	completed: 'BS-DONE',
	declined: 'BS-NOCONSENT',
	ineligible: 'BS-SCREENED',
	failed: 'BS-ATTN',
	withdrawn: 'BS-LEFT'
};
const REJECTION =
	'Your submission failed the attention check that the study information described, so we cannot approve it. Thank you for your time.';
const PASSWORD = 'owner password 12345';
const N = 48;

let fake: FakeOpenAi;
let prolific: FakeProlific;
let server: RunningServer;
let browser: Browser;
let dataDir: string;
let summary: BotRunSummary;

function endingProtocol(p: StudyProtocol) {
	p.arms = p.arms.filter((a) => a.id !== 'assistant_scripted');
	p.randomization = { method: 'stratified_blocks', block_sizes: [2, 4], strata: ['chatbot_use'] };
	p.recruitment = {
		panel: 'prolific',
		completion_code: CODES.completed,
		ending_codes: {
			declined_consent: CODES.declined,
			screened_out: CODES.ineligible,
			failed_attention: CODES.failed,
			withdrew: CODES.withdrawn
		},
		rejection_message: REJECTION,
		bonus: { amount: 0.5 }
	};
	// Day 0 so the bots can answer now; the analysis below also looks from day 8, when it closed.
	p.follow_ups = [
		{
			id: 'week',
			after_days: 0,
			window_days: 7,
			intro: 'A week has passed since you read about the symptoms.',
			questions: [
				{ id: 'saw_doctor', text: 'Did you see a doctor?', kind: 'clinical', type: 'yes_no' },
				{
					id: 'reassured',
					text: 'How reassured do you feel?',
					kind: 'proxy',
					type: 'scale',
					scale: { min: 1, max: 5, labels: {} }
				}
			]
		}
	];
	p.outcomes.push({ name: 'saw_doctor', role: 'secondary', kind: 'clinical', source: 'follow_up' });
}

beforeAll(async () => {
	fake = await startFakeOpenAi();
	fake.reply = () => 'I recommend this: see your GP within a few days.';
	prolific = await startFakeProlific();
	dataDir = tempDir('bedside-panel-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'endings', endingProtocol);
	await newMember(db.db, {
		email: 'owner@example.org',
		password: PASSWORD,
		slug: 'endings',
		role: 'owner'
	});
	await db.close();
	server = await startServer({
		dataDir,
		env: {
			BEDSIDE_LLM_BASE_URL: fake.url,
			BEDSIDE_ENROL_PER_ADDRESS: '0',
			BEDSIDE_SEED_DEMO: 'false',
			BEDSIDE_PROLIFIC_TOKEN: prolific.token,
			BEDSIDE_PROLIFIC_API_URL: prolific.url
		}
	});
	browser = await launchBrowser();
});
afterAll(async () => {
	await browser?.close();
	await server?.stop('SIGKILL');
	await fake?.close();
	await prolific?.close();
});

const expectedCode = (r: BotResult) =>
	r.outcome === 'completed'
		? r.attentionFailed
			? CODES.failed
			: CODES.completed
		: CODES[r.outcome as 'declined' | 'ineligible' | 'withdrawn'];

async function signedIn(): Promise<Page> {
	const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
	await page.goto(`${server.url}/login`);
	await page.getByLabel('Email').fill('owner@example.org');
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForURL('**/studies');
	return page;
}

describe('a Prolific study with every ending and a follow-up', () => {
	it('bots walk every ending and are shown its code; those who completed answer the follow-up', async () => {
		summary = await runBots({
			baseUrl: server.url,
			slug: 'endings',
			n: N,
			concurrency: 12,
			seed: 'endings',
			protocol: { ...exampleProtocol(), slug: 'endings' },
			behaviour: {
				uptake: 0.5,
				attentionFailure: 0.3,
				dropout: 0,
				reload: 0.1,
				doubleSubmit: 0.1,
				back: 0.05,
				messages: 1,
				switchDevice: 0,
				sharedBrowser: 0,
				decline: 0.12,
				screenOut: 0.15,
				withdraw: 0.1,
				followUp: { answer: 0.75, yes: 0.4 }
			}
		});
		expect(summary.errors).toEqual([]);
		const by = summary.outcomes;
		for (const ending of ['completed', 'declined', 'ineligible', 'withdrawn'] as const)
			expect(by[ending], ending).toBeGreaterThan(0);
		expect(summary.results.some((r) => r.outcome === 'completed' && r.attentionFailed)).toBe(true);
		for (const r of summary.results) {
			const shown = r.outcome === 'completed' ? r.completionCode : r.endingCode;
			expect(shown, `bot ${r.index} (${r.outcome})`).toBe(expectedCode(r));
		}
		const answered = summary.results.filter((r) => r.followUps.week).length;
		expect(answered).toBeGreaterThan(0);
		expect(answered).toBeLessThan(by.completed);
	});

	it('a follow-up link: answered once, a reload and the back button change nothing, a forged one fails', async () => {
		// A completed bot that did not answer: its link, opened on a phone.
		const page = await (
			await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
		).newPage();
		const unanswered = summary.results.find((r) => r.outcome === 'completed' && !r.followUps.week)!;
		await page.goto(`${server.url}/s/endings/follow-up/week?PROLIFIC_PID=${unanswered.externalId}`);
		await page.waitForURL(/\/f\//);
		const link = page.url();
		await expect(page.locator('h1').textContent()).resolves.toMatch(/what happened since/);
		// A participant's page: nothing leads away (no registry, no sign-in).
		expect(await page.getByRole('link', { name: 'Registry' }).count()).toBe(0);
		// Without an answer to each question the server records nothing (the browser asks first).
		const partial = await fetch(link, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				origin: server.url
			},
			body: 'saw_doctor=1'
		});
		expect(partial.status).toBe(400);
		await page.reload();
		await page.getByRole('group', { name: 'Did you see a doctor?' }).getByLabel('Yes').check();
		await page.getByRole('group', { name: 'How reassured do you feel?' }).getByLabel('4').check();
		await page.getByRole('button', { name: 'Send my answers' }).click();
		await expect(page.getByTestId('follow-up-answered').textContent()).resolves.toMatch(/recorded/);
		await page.reload();
		await expect(page.getByTestId('follow-up-answered').isVisible()).resolves.toBe(true);
		await page.goBack();
		await expect(page.getByTestId('follow-up-answered').isVisible()).resolves.toBe(true);
		unanswered.followUps.week = { saw_doctor: '1', reassured: '4' };
		// A second post of other answers (another tab) is not an error and changes nothing: checked
		// against the export below. A forged link shows nothing of anyone.
		const again = await fetch(link, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				origin: server.url
			},
			body: 'saw_doctor=0&reassured=1'
		});
		expect(again.status).toBe(303);
		await page.goto(link.replace(/.{4}$/, 'AAAA'));
		await expect(page.locator('h1').textContent()).resolves.toBe('This link does not work');
		await page.goto(`${server.url}/s/endings/follow-up/week?PROLIFIC_PID=never-took-part`);
		await expect(page.getByTestId('follow-up-no-session').isVisible()).resolves.toBe(true);
		await page.context().close();
	});

	it('the owner acts on Prolific; the panel failing part-way leaves nothing half-done', async () => {
		// Prolific's side: a submission per panel id, by how the session ended there.
		prolific.submissions = summary.results.map((r, i) => ({
			id: `sub${String(i).padStart(4, '0')}`,
			participant_id: r.externalId,
			status: ['completed', 'ineligible'].includes(r.outcome) ? 'AWAITING REVIEW' : 'RETURNED'
		}));
		prolific.submissions.push({
			id: 'sub-stranger',
			participant_id: 'never-here',
			status: 'AWAITING REVIEW'
		});
		const subOf = new Map(
			summary.results.map((r, i) => [r.externalId, `sub${String(i).padStart(4, '0')}`])
		);
		const completed = summary.results.filter(
			(r) => r.outcome === 'completed' && !r.attentionFailed
		);
		const failed = summary.results.filter((r) => r.outcome === 'completed' && r.attentionFailed);
		const screened = summary.results.filter((r) => r.outcome === 'ineligible');

		const page = await signedIn();
		await page.goto(`${server.url}/studies/endings/panel`);
		await page.getByLabel('Prolific study id').fill(prolific.studyId);
		await page.getByRole('button', { name: 'Save' }).click();
		await page.getByRole('button', { name: 'Review submissions on Prolific' }).click();
		await expect(page.getByTestId('panel-review-summary').textContent()).resolves.toMatch(
			new RegExp(`${N + 1} submission`)
		);

		// Approve: the panel refuses the third; two are done, the rest reported not done.
		prolific.failOn(/transition/, 3, { kind: 'refuse', status: 503 });
		await page.getByRole('button', { name: `Approve: ${completed.length}` }).click();
		await expect(page.getByTestId('panel-result').textContent()).resolves.toMatch(
			new RegExp(`Approve: 2 done, ${completed.length - 2} not done`)
		);
		const approvedNow = prolific.submissions.filter((s) => s.status === 'APPROVED').length;
		expect(approvedNow).toBe(2);
		// The rest, asked again: only those not done yet.
		await page.getByRole('button', { name: `Approve: ${completed.length - 2}` }).click();
		await expect(page.getByTestId('panel-result').textContent()).resolves.toMatch(
			new RegExp(`Approve: ${completed.length - 2} done`)
		);
		await page
			.getByRole('button', { name: `Reject (failed attention check): ${failed.length}` })
			.click();
		await page.getByRole('button', { name: `Screen out: ${screened.length}` }).click();
		const status = (r: BotResult) =>
			prolific.submissions.find((s) => s.id === subOf.get(r.externalId))!.status;
		expect(completed.map(status).every((s) => s === 'APPROVED')).toBe(true);
		expect(failed.map(status).every((s) => s === 'REJECTED')).toBe(true);
		expect(screened.map(status).every((s) => s === 'SCREENED OUT')).toBe(true);
		const rejects = prolific.calls.filter((c) => c.body?.action === 'REJECT');
		expect(rejects.every((c) => c.body?.message === REJECTION)).toBe(true);
		expect(
			prolific.calls
				.filter((c) => c.body?.action === 'COMPLETE')
				.every((c) => c.body?.completion_code === CODES.ineligible)
		).toBe(true);

		// The bonus: a refused set-up pays nothing and records nothing.
		prolific.failOn(/bonus-payments\/$/, 1, { kind: 'refuse', status: 400 });
		await page.getByRole('button', { name: `Pay the bonus: ${completed.length} × 0.50` }).click();
		await expect(page.getByTestId('panel-result').textContent()).resolves.toMatch(/0 done/);
		expect(prolific.paid.size).toBe(0);
		// Paid, but the answer lost: marked unknown, never paid again by Bedside.
		prolific.failOn(/\/pay\/$/, 1, { kind: 'drop_after_acting' });
		await page.getByRole('button', { name: `Pay the bonus: ${completed.length} × 0.50` }).click();
		await expect(page.getByTestId('panel-result').textContent()).resolves.toMatch(
			new RegExp(`${completed.length} unknown`)
		);
		expect(prolific.paid.size).toBe(completed.length);
		await expect(page.getByRole('button', { name: /Pay the bonus/ }).count()).resolves.toBe(0);
		expect([...prolific.paid.values()].every((v) => v === 0.5)).toBe(true);
		// The failed-attention ones got no bonus; the stranger was never touched.
		expect(prolific.calls.some((c) => JSON.stringify(c.body).includes('sub-stranger'))).toBe(false);

		await page.goto(`${server.url}/studies/endings/audit`);
		const audit = (await page.locator('main').textContent()) ?? '';
		for (const action of ['panel.approve', 'panel.reject', 'panel.screen_out', 'panel.bonus'])
			expect(audit).toContain(action);
		await page.context().close();
	});

	it('the export and the analysis count the endings and the follow-up as the bots made them', async () => {
		await server.stop('SIGTERM');
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
		try {
			const actions = await db.db.selectFrom('panel_actions').select(['action', 'state']).execute();
			const count = (a: string, s = 'done') =>
				actions.filter((x) => x.action === a && x.state === s).length;
			const completed = summary.results.filter(
				(r) => r.outcome === 'completed' && !r.attentionFailed
			);
			expect(count('approve')).toBe(completed.length);
			expect(count('bonus', 'unknown')).toBe(completed.length);
			const dir = tempDir('bedside-panel-export-');
			await writeExportToDir(
				await studyExport(db.db, 'endings', { freeText: false, scrub: false }, CLI_ACTOR),
				dir
			);
			const data = readExportDir(dir);
			// Endings: the bots' own record.
			const fs = await import('node:fs');
			const rows = fs.readFileSync(`${dir}/participants.csv`, 'utf8').trim().split('\n').slice(1);
			const endings = rows.map((r) => r.split(',').at(-1));
			const n = (e: string) => endings.filter((x) => x === e).length;
			expect(n('completed')).toBe(completed.length);
			expect(n('failed attention check')).toBe(
				summary.results.filter((r) => r.outcome === 'completed' && r.attentionFailed).length
			);
			expect(n('withdrew')).toBe(summary.outcomes.withdrawn);
			expect(n('screened out')).toBe(summary.outcomes.ineligible);
			// Follow-up answers: one row each, the first answer kept.
			const answeredBots = summary.results.filter((r) => r.followUps.week);
			expect(data.followUps).toHaveLength(answeredBots.length);
			const armOf = new Map(data.participants.map((p) => [p.id, p.arm]));
			const saw = data.measures.filter((m) => m.measure === 'saw_doctor');
			expect(saw).toHaveLength(answeredBots.length);
			expect(saw.filter((m) => m.value === 1).length).toBe(
				answeredBots.filter((r) => r.followUps.week!.saw_doctor === '1').length
			);
			expect(saw.every((m) => m.kind === 'clinical' && m.episode === null)).toBe(true);
			expect(data.followUps!.every((f) => f.days >= 0 && f.days < 1)).toBe(true);

			const result = analyze(data);
			expectConsortAddsUp(result);
			const wave = result.consort.follow_ups[0]!;
			expect(wave.follow_up).toBe('week');
			const sum = (k: 'invited' | 'answered' | 'pending' | 'lost') =>
				wave.arms.reduce((s, a) => s + a[k], 0);
			expect(sum('answered')).toBe(answeredBots.length);
			expect(sum('invited')).toBe(summary.outcomes.completed);
			expect(sum('lost')).toBe(0); // every link is still open
			for (const a of wave.arms)
				expect(a.answered).toBe(
					data.followUps!.filter((f) => armOf.get(f.participant) === a.arm).length
				);
			// Looked at after the window closed: whoever did not answer is lost to follow-up.
			const later = analyze({
				...data,
				study: { ...data.study, exportedAt: new Date(Date.now() + 8 * 86_400_000).toISOString() }
			});
			const closed = later.consort.follow_ups[0]!;
			expect(closed.arms.reduce((s, a) => s + a.lost, 0)).toBe(
				summary.outcomes.completed - answeredBots.length
			);
			expect(closed.arms.reduce((s, a) => s + a.pending, 0)).toBe(0);
			// The later clinical outcome is validated against the proxy like any clinical outcome.
			const proxy = result.proxies.find(
				(x) => x.proxy === 'confidence' && x.outcome === 'saw_doctor'
			);
			expect(proxy?.spearman.n).toBe(
				data.episodes.filter((e) => e.submitted && saw.some((m) => m.participant === e.participant))
					.length
			);
		} finally {
			await db.close();
		}
	});
});
