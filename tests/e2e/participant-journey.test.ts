import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { answerScreening } from '../helpers/participant-page.ts';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

let browser: Browser;
beforeAll(async () => {
	browser = await launchBrowser();
});
afterAll(() => browser?.close());

const ARM_SECRETS = [
	'assistant_llm',
	'assistant_scripted',
	'LLM assistant (general',
	'Scripted assistant (scripted',
	'Control: usual sources'
];

/**
 * Clicks a submit button and waits for the page the action redirects to: its data (`__data.json`,
 * when the enhanced form handles it) or its document (a plain form post).
 */
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

describe.each(databaseKinds())(
	'participants go from a panel link to a completion code (%s)',
	(kind) => {
		let server: RunningServer;
		let target: { kind: 'pg'; url: string; poolSize: number } | { kind: 'pglite'; dataDir: string };
		let drop = async () => {};
		const arms: string[] = [];

		beforeAll(async () => {
			if (kind === 'pg') {
				const created = await createPgTestDatabase();
				drop = created.drop;
				target = { kind: 'pg', url: created.url, poolSize: 2 };
			} else {
				target = { kind: 'pglite', dataDir: `${tempDir('bedside-journey-')}/pglite` };
			}
			// Prepare a preregistered, recruiting study before the server starts (PGlite allows one process).
			const db: Database = await openDatabase(target);
			await migrateToLatest(db.db);
			await newRecruitingStudy(db.db, 'flow');
			await db.close();
			server = await startServer(
				target.kind === 'pg'
					? { databaseUrl: target.url }
					: { dataDir: target.dataDir.replace(/\/pglite$/, '') }
			);
		});
		afterAll(async () => {
			await server?.stop('SIGKILL');
			await drop();
		});

		async function walk(pid: string): Promise<string> {
			const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
			const seen: string[] = [];
			page.on('response', async (r) => {
				if (
					r.url().startsWith(server.url) &&
					(r.headers()['content-type'] ?? '').match(/html|json/)
				)
					seen.push(await r.text().catch(() => ''));
			});
			await page.goto(
				`${server.url}/s/flow?PROLIFIC_PID=${pid}&STUDY_ID=panel-study&SESSION_ID=sess-${pid}`
			);
			await submit(page, 'I agree to take part');
			await answerScreening(page);
			await submit(page, 'Continue');

			let arm = '';
			for (const n of [1, 2]) {
				await expect(page.getByText(`Situation ${n} of 2`).textContent()).resolves.toBeTruthy();
				await submit(page, 'I have read it');
				await page.reload(); // a reload lands on the same step
				await page
					.locator('[data-testid="assistant"], [data-testid="usual-sources"]')
					.first()
					.waitFor();
				arm = (await page.getByTestId('assistant').count()) > 0 ? 'assistant' : 'control';
				if (arm === 'control')
					await expect(page.getByTestId('usual-sources').textContent()).resolves.toMatch(
						/whatever you would normally use/
					);
				await submit(page, 'I am ready to decide');
				// Readable when zoomed: at 320 CSS pixels (400% of 1280) nothing needs horizontal scrolling.
				await page.setViewportSize({ width: 320, height: 640 });
				expect(
					await page.evaluate(
						() => document.documentElement.scrollWidth <= document.documentElement.clientWidth
					)
				).toBe(true);
				await page.setViewportSize({ width: 390, height: 844 });
				// Operable by keyboard: the radio group takes focus and arrow keys move the choice.
				await page.getByLabel('Look after myself at home').focus();
				await page.keyboard.press('Space');
				await page.keyboard.press('ArrowDown');
				await expect(
					page.getByLabel('Book a routine appointment with my GP').isChecked()
				).resolves.toBe(true);
				await page.getByLabel('Go to the emergency department (A&E)').check();
				await page.getByLabel('Possibility 1').fill('appendicitis');
				await page.getByLabel('Possibility 2').fill('<script>alert(1)</script>');
				await submit(page, 'Submit my decision');
				await page.goBack(); // the back button cannot reopen a submitted decision
				await page.reload();
				expect(await page.getByRole('button', { name: 'Submit my decision' }).count()).toBe(0);
				for (const item of [/How confident/, /How helpful/, /How likely/])
					await page
						.getByRole('group', { name: item })
						.getByRole('radio', { name: '5', exact: true })
						.check();
				await submit(page, 'Continue');
			}
			await page.getByLabel('Sometimes').check();
			await submit(page, 'Continue');
			await page
				.getByRole('group', { name: /trust AI/ })
				.getByRole('radio', { name: '4', exact: true })
				.check();
			await submit(page, 'Finish');
			await expect(page.getByTestId('completion-code').textContent()).resolves.toBe(
				'BEDSIDE-TRIAGE'
			);
			await expect(
				page.getByRole('link', { name: 'Return to the panel' }).getAttribute('href')
			).resolves.toContain('cc=BEDSIDE-TRIAGE');

			// Nothing the participant's browser received names an arm.
			for (const text of seen) for (const secret of ARM_SECRETS) expect(text).not.toContain(secret);
			// The same panel id later resumes the same participant, at the end.
			await page.goto(`${server.url}/s/flow?PROLIFIC_PID=${pid}`);
			await expect(page.getByTestId('completion-code').textContent()).resolves.toBe(
				'BEDSIDE-TRIAGE'
			);
			await page.close();
			return arm;
		}

		it('walks participants until one of each kind of arm has finished, on a phone, reloading on the way', async () => {
			for (let i = 1; i <= 6 && !(arms.includes('control') && arms.includes('assistant')); i++)
				arms.push(await walk(`${kind}-p${i}`));
			expect(arms).toContain('control');
			expect(arms).toContain('assistant');
		});

		it('stored every decision once, the questionnaires, the telemetry and one allocation per participant', async () => {
			expect(await server.stop('SIGTERM')).toBe(0); // the embedded database can be read once the server is gone
			const db = await openDatabase(target);
			try {
				const participants = await db.db
					.selectFrom('participants')
					.select(['id', 'status', 'completion_code', 'external_id_hash'])
					.execute();
				expect(participants).toHaveLength(arms.length);
				expect(
					participants.every((p) => p.status === 'completed' && p.external_id_hash !== null)
				).toBe(true);
				const slots = await db.db
					.selectFrom('allocation_slots')
					.select('participant_id')
					.where('participant_id', 'is not', null)
					.execute();
				expect(slots).toHaveLength(arms.length);
				const decisions = await db.db
					.selectFrom('decisions')
					.select(['disposition', 'conditions_text'])
					.execute();
				expect(decisions).toHaveLength(2 * arms.length);
				for (const d of decisions) {
					expect(d.disposition).toBe('emergency_department');
					expect(d.conditions_text).toEqual(['appendicitis', '<script>alert(1)</script>']); // stored verbatim
				}
				const measures = await db.db.selectFrom('measures').select('measure').execute();
				expect(measures.filter((m) => m.measure === 'confidence')).toHaveLength(2 * arms.length);
				const events = await db.db
					.selectFrom('episode_events')
					.select(['kind', 'episode_id'])
					.execute();
				expect(events.filter((e) => e.kind === 'step_view').length).toBeGreaterThan(
					5 * arms.length
				);
				expect(events.some((e) => e.episode_id !== null)).toBe(true);
			} finally {
				await db.close();
			}
		});
	}
);
