import fs from 'node:fs';
import { bedside as run } from '../helpers/cli.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { tempDir } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

let fake: FakeOpenAi;
let dataDir: string;
beforeAll(async () => {
	fake = await startFakeOpenAi();
	fake.reply = () => 'Probably appendicitis: go to the emergency department.';
	dataDir = tempDir('bedside-cli-bench-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'cli-bench');
	await db.close();
});
afterAll(() => fake.close());

const bedside = (env: Record<string, string>, ...args: string[]) =>
	run({ BEDSIDE_DATA_DIR: dataDir, ...env }, ...args);

describe('bedside benchmark / code (CLI)', () => {
	it('runs the LLM-alone condition with a progress bar, lists it, and explains bad options', async () => {
		const env = { BEDSIDE_LLM_BASE_URL: fake.url, BEDSIDE_LLM_API_KEY: 'sk-never-printed' };
		const result = await bedside(
			env,
			'benchmark',
			'run',
			'cli-bench',
			'--arm',
			'assistant_llm',
			'--repeats',
			'2',
			'--run',
			'cli-run'
		);
		expect(result.code).toBe(0);
		expect(result.stderr).toContain('] 18/18');
		expect(result.stdout).toContain('run cli-run: 18/18 stored, 0 failed');
		expect(result.stdout + result.stderr).not.toContain('sk-never-printed');

		const list = await bedside(env, 'benchmark', 'list', 'cli-bench');
		expect(list.stdout).toMatch(
			/cli-run {2}arm assistant_llm {2}physician {2}×2 {2}18 stored {2}finished/
		);

		const noArm = await bedside(env, 'benchmark', 'run', 'cli-bench', '--mode', 'physician');
		expect(noArm.code).toBe(2);
		expect(noArm.stderr).toContain('--arm is required');
		const badMode = await bedside(
			env,
			'benchmark',
			'run',
			'cli-bench',
			'--arm',
			'assistant_llm',
			'--mode',
			'doctor'
		);
		expect(badMode.stderr).toContain(
			'--mode must be one of physician, patient-first-turn, simulated'
		);
		const noEndpoint = await bedside(
			{},
			'benchmark',
			'run',
			'cli-bench',
			'--arm',
			'assistant_llm',
			'--repeats',
			'1'
		);
		expect(noEndpoint.code).toBe(1);
		expect(noEndpoint.stderr.trim()).toBe(
			'bedside benchmark run: the LLM endpoint "default" is not configured: set BEDSIDE_LLM_BASE_URL'
		);

		const out = `${tempDir('bedside-cli-export-')}/export`;
		const exported = await bedside(env, 'export', 'cli-bench', '--out', out, '--scrub');
		expect(exported.code).toBe(0);
		expect(exported.stdout).toMatch(/cli-bench: exported to .*recommendations\.csv 18/);
		expect(exported.stdout).toContain('scrubbed: 0 email(s), 0 phone number(s), 0 URL(s)');
		expect(fs.readdirSync(out)).toContain('codebook.json');
		const zip = `${tempDir('bedside-cli-export-')}/cli-bench.zip`;
		expect((await bedside(env, 'export', 'cli-bench', '--zip', zip)).code).toBe(0);
		expect(fs.readFileSync(zip).subarray(0, 2).toString()).toBe('PK');
		const both = await bedside(env, 'export', 'cli-bench');
		expect(both.code).toBe(2);
		expect(both.stderr).toContain('give exactly one of --out DIR or --zip FILE');

		const agreement = await bedside(env, 'code', 'agreement', 'cli-bench');
		expect(agreement.code).toBe(0);
		expect(JSON.parse(agreement.stdout)).toEqual([]);

		// The study analysed straight from the database, as an HTML report, and its estimates
		// written to the cards it tests (once closed: never an interim estimate).
		expect((await bedside(env, 'study', 'close', 'cli-bench')).code).toBe(0);
		const report = `${tempDir('bedside-cli-report-')}/report.html`;
		const analysed = await bedside(
			env,
			'analyze',
			'cli-bench',
			'--format',
			'html',
			'--out',
			report,
			'--write-evidence'
		);
		expect(analysed.code).toBe(0);
		expect(fs.readFileSync(report, 'utf8')).toContain('<title>CONSORT 2010 flow diagram</title>');
		expect(analysed.stderr).toMatch(
			/wrote \d+ estimate\(s\) on bean-triage-scenarios\.decision_mediation, bean-triage-scenarios\.interaction_type \(analysis SHA-256 [0-9a-f]{64}\)/
		);
		const missing = await bedside(env, 'analyze', 'no-such-study');
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain('no-such-study');
		const folderEvidence = await bedside(env, 'analyze', out, '--write-evidence');
		expect(folderEvidence.code).toBe(2);
		expect(folderEvidence.stderr).toContain('--write-evidence needs a study slug');
	});
});
