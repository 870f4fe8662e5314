import fs from 'node:fs';
import { bedside as run } from '../helpers/cli.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { expectConsortAddsUp } from '../helpers/consort.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { runBots, type BotRunSummary } from '../../src/bots/run-bots.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { codeConversations } from '../../src/lib/server/coding/coding.service.ts';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';
import { studyExport } from '../../src/lib/server/export/export.service.ts';
import { writeExportToDir } from '../../src/lib/server/export/writers.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { compareWithBots, storedParticipants } from '../helpers/bots.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { exampleProtocol, newRecruitingStudy } from '../helpers/studies.ts';

// Bots through the real HTTP flow of a built server on embedded PGlite, with the fake model
// recommending a level per reply; then the server's data is compared with the bots' own record,
// and the export, coded and analysed, recovers the behaviour the bots were given.

const protocol = exampleProtocol();
const LEVELS = protocol.disposition_scale;
let fake: FakeOpenAi;
let server: RunningServer;
let dataDir: string;
let summary: BotRunSummary;
let judgeSummary: BotRunSummary;
const JUDGE = { initialAccuracy: 0.5, right: 0.8, wrong: 0.2, paste: 0.4, leaveTab: 0.3 };

beforeAll(async () => {
	fake = await startFakeOpenAi();
	// Each reply recommends one level by its label, cycling through the scale.
	fake.reply = () => `I recommend this: ${LEVELS[fake.requests.length % LEVELS.length]!.label}.`;
	dataDir = tempDir('bedside-bots-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'bots', (p: StudyProtocol) => {
		p.arms = p.arms.filter((a) => a.id !== 'assistant_scripted');
		p.randomization = { method: 'stratified_blocks', block_sizes: [2, 4], strata: ['chatbot_use'] };
	});
	// A judge–advisor study: a decision before the advice, then the final one.
	await newRecruitingStudy(db.db, 'judge', (p: StudyProtocol) => {
		p.arms = p.arms.filter((a) => a.id !== 'assistant_scripted');
		p.initial_decision = { show_on_final: 'nothing' };
		p.attention_checks = [];
		p.randomization = { method: 'stratified_blocks', block_sizes: [2, 4], strata: ['chatbot_use'] };
	});
	await db.close();
	// Every bot comes from 127.0.0.1: the per-address enrolment limit would stop them (it has its
	// own tests), so it is off for this server.
	server = await startServer({
		dataDir,
		env: { BEDSIDE_LLM_BASE_URL: fake.url, BEDSIDE_ENROL_PER_ADDRESS: '0' }
	});
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await fake?.close();
});

describe('bots', () => {
	it('decide before and after the advice as told, pasting and leaving the tab as told', async () => {
		judgeSummary = await runBots({
			baseUrl: server.url,
			slug: 'judge',
			n: 60,
			concurrency: 12,
			seed: 'judge',
			protocol: { ...exampleProtocol(), slug: 'judge' },
			behaviour: {
				uptake: 0,
				attentionFailure: 0,
				dropout: 0,
				reload: 0,
				doubleSubmit: 0,
				back: 0,
				messages: 1,
				switchDevice: 0,
				sharedBrowser: 0,
				initialAccuracy: JUDGE.initialAccuracy,
				adviceTaking: { right: JUDGE.right, wrong: JUDGE.wrong },
				paste: JUDGE.paste,
				leaveTab: JUDGE.leaveTab
			}
		});
		expect(judgeSummary.errors).toEqual([]);
		expect(judgeSummary.outcomes.completed).toBe(60);
	});

	it('go through the real HTTP flow; every decision is stored once, as made', async () => {
		summary = await runBots({
			baseUrl: server.url,
			slug: 'bots',
			n: 36,
			concurrency: 12,
			seed: 'e2e',
			protocol,
			behaviour: {
				uptake: 0.7,
				attentionFailure: 0.25,
				dropout: 0.1,
				reload: 0.2,
				doubleSubmit: 0.2,
				back: 0.15,
				messages: 1,
				switchDevice: 0.3,
				sharedBrowser: 0.2
			}
		});
		expect(summary.errors).toEqual([]);
		expect(summary.outcomes.completed + summary.outcomes.dropped_out).toBe(36);
		expect(summary.outcomes.completed).toBeGreaterThan(20);
		expect(summary.results.reduce((n, r) => n + r.doubleSubmits, 0)).toBeGreaterThan(0);
		expect(summary.results.reduce((n, r) => n + r.reloads, 0)).toBeGreaterThan(0);
		expect(summary.results.reduce((n, r) => n + r.backs, 0)).toBeGreaterThan(0);
		expect(summary.results.reduce((n, r) => n + r.deviceSwitches, 0)).toBeGreaterThan(0);
		const sharedBrowsers = summary.results.filter((r) => r.previousPerson !== null).length;
		expect(sharedBrowsers).toBeGreaterThan(0);
		// Nothing failed on the server's side: no request had to be retried.
		expect(summary.results.reduce((n, r) => n + r.retries, 0)).toBe(0);
		expect(summary.latency.chat_first_token.count).toBeGreaterThan(0);
		await server.stop('SIGTERM'); // PGlite is one process's: read it after the server is gone
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
		try {
			const stored = await storedParticipants(db.db, 'bots');
			// Every bot one participant, plus the people who used a shared browser before them.
			expect(stored).toHaveLength(36 + sharedBrowsers);
			expect(await compareWithBots(db.db, 'bots', summary, stored)).toEqual([]);
			const slots = await db.db.selectFrom('allocation_slots').select('participant_id').execute();
			const taken = slots.map((s) => s.participant_id).filter(Boolean);
			expect(new Set(taken).size).toBe(taken.length);
			await analyzeLikeAnAnalyst(db);
			await analyzeJudge(db);
		} finally {
			await db.close();
		}
	});
});

/** Codes the conversations, exports and analyses: the analysis recovers the bots' parameters. */
async function analyzeLikeAnAnalyst(db: Database) {
	await codeConversations(db.db, 'bots', 'rule', { endpoints: {}, retryWindowMs: 0 });
	const dir = tempDir('bedside-bots-export-');
	await writeExportToDir(
		await studyExport(db.db, 'bots', { freeText: false, scrub: false }, CLI_ACTOR),
		dir
	);
	const data = readExportDir(dir);
	const result = analyze(data);
	// The flow adds up whatever the bots did: dropped out, failed attention checks, switched device.
	expectConsortAddsUp(result);
	const failedAttention = summary.results.filter((r) => r.attentionFailed === true).length;
	const perProtocolOut = result.consort.arms.reduce(
		(n, a) => n + (a.analysis.per_protocol.excluded.reasons['failed an attention check'] ?? 0),
		0
	);
	expect(perProtocolOut).toBe(failedAttention);
	const mediation = result.mediation.find((m) => m.outcome === 'disposition_correct')!;
	// The server's rule coder read the same replies the bots read: the same uptake, exactly.
	expect(mediation.uptake.p).toBeCloseTo(summary.observedUptake!, 12);
	// The bots took advice with probability 0.7: the observed share is Binomial(n, 0.7)/n. Its 95%
	// interval misses 0.7 in one run of twenty by design, so the check is at four standard errors
	// (a false alarm once in 15,000 runs), not at the interval.
	const n = mediation.uptake.n;
	expect(n).toBeGreaterThan(30);
	expect(Math.abs(mediation.uptake.p! - 0.7)).toBeLessThan(4 * Math.sqrt((0.7 * 0.3) / n));
	expect(mediation.uptake.ci[0]).toBeLessThan(mediation.uptake.p!);
	expect(mediation.uptake.ci[1]).toBeGreaterThan(mediation.uptake.p!);
	// Attention checks: the export's measure is the bots' record.
	const attention = data.measures.filter((m) => m.measure === 'attention_reading');
	const failedByBots = summary.results.filter((r) => r.attentionFailed === true).length;
	expect(attention.filter((m) => m.value === 0)).toHaveLength(failedByBots);
	expect(attention).toHaveLength(summary.results.filter((r) => r.attentionFailed !== null).length);
}

describe('bedside bots (the command)', () => {
	it('runs bots against a server, prints the summary, and explains bad options', async () => {
		const fakeForCli = await startFakeOpenAi();
		fakeForCli.reply = () => `I recommend this: ${LEVELS[0]!.label}.`;
		const dir = tempDir('bedside-bots-cli-');
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dir}/pglite` });
		await migrateToLatest(db.db);
		await newRecruitingStudy(db.db, 'triage-demo');
		await db.close();
		const cliServer = await startServer({
			dataDir: dir,
			env: { BEDSIDE_LLM_BASE_URL: fakeForCli.url }
		});
		try {
			const ok = await bedside(
				'bots',
				'triage-demo',
				'--base-url',
				cliServer.url,
				'--n',
				'6',
				'--concurrency',
				'3',
				'--dropout',
				'0',
				'--seed',
				'cli',
				'--json',
				`${dir}/bots.json`
			);
			expect(ok.stderr).toBe('');
			expect(ok.code).toBe(0);
			// studies/triage-demo/study.yaml is found by the slug: eligible answers for everyone.
			expect(ok.stdout).toMatch(
				/^6 bots, 3 at a time, seed cli: [\d.]+ s\n {2}outcomes: completed 6\n/
			);
			expect(ok.stdout).toMatch(/chat_first_token +\d+ ms/);
			const written = JSON.parse(fs.readFileSync(`${dir}/bots.json`, 'utf8'));
			expect(written.results).toHaveLength(6);
			const bad = await bedside(
				'bots',
				'triage-demo',
				'--base-url',
				cliServer.url,
				'--uptake',
				'2'
			);
			expect(bad.code).toBe(2);
			expect(bad.stderr).toContain('--uptake must be a probability between 0 and 1 (got "2")');
			const wrongSlug = await bedside('bots', 'no-such-study', '--base-url', cliServer.url);
			expect(wrongSlug.code).toBe(1);
			expect(wrongSlug.stderr).toContain('no study "no-such-study"');
			const noUrl = await bedside('bots', 'triage-demo');
			expect(noUrl.code).toBe(2);
			expect(noUrl.stderr).toContain('--base-url must be the server address');
		} finally {
			await cliServer.stop('SIGKILL');
			await fakeForCli.close();
		}
	});
});

const bedside = (...args: string[]) => run({}, ...args);

/**
 * The judge–advisor study: the analysis recovers the bots' initial accuracy, reliance and
 * telemetry. Which advice a bot gets depends on the order requests reach the fake model, so each
 * estimate is checked against its truth at four standard errors (a false alarm once in 15,000
 * runs per check), not at its 95% interval (which misses one run in twenty by design).
 */
async function analyzeJudge(db: Database) {
	await codeConversations(db.db, 'judge', 'rule', { endpoints: {}, retryWindowMs: 0 });
	const dir = tempDir('bedside-judge-export-');
	await writeExportToDir(
		await studyExport(db.db, 'judge', { freeText: false, scrub: false }, CLI_ACTOR),
		dir
	);
	const result = analyze(readExportDir(dir), { mixedModel: false });
	const near = (truth: number, share: { p: number | null; n: number }, what: string) => {
		expect(share.n, what).toBeGreaterThan(10);
		expect(Math.abs(share.p! - truth), what).toBeLessThan(
			4 * Math.sqrt((truth * (1 - truth)) / share.n)
		);
	};
	const llm = result.advice_taking.find((a) => a.arm === 'assistant_llm')!;
	const control = result.advice_taking.find((a) => a.arm === 'control')!;
	expect(llm.n + control.n).toBe(120);
	near(JUDGE.initialAccuracy, llm.initial_accuracy, 'initial accuracy, LLM arm');
	near(JUDGE.initialAccuracy, control.initial_accuracy, 'initial accuracy, control');
	// Control has no advice: its participants keep their first answer.
	expect(control.switch_table.improved + control.switch_table.harmed).toBe(0);
	// Right decisions are kept against wrong advice with probability 0.8. Wrong advice is taken with
	// probability 0.2, and a bot whose first answer already was that wrong level (half the bots
	// start wrong, spread over the 4 wrong levels) ends there anyway: 0.2 + 0.8 · 0.5 · 1/4 = 0.3.
	near(1 - JUDGE.wrong, llm.reliance!.rsr, 'relative self-reliance');
	near(
		JUDGE.wrong + (1 - JUDGE.wrong) * (1 - JUDGE.initialAccuracy) * 0.25,
		llm.reliance!.following_wrong_advice,
		'following wrong advice'
	);
	// Pasting and leaving the tab, per episode, as told.
	for (const arm of result.integrity) {
		near(JUDGE.paste, { p: arm.pasted_share, n: arm.n }, `pasted, ${arm.arm}`);
		near(JUDGE.leaveTab, { p: arm.left_page_share, n: arm.n }, `left the tab, ${arm.arm}`);
	}
}
