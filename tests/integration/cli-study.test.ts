import fs from 'node:fs';
import path from 'node:path';
import { bedsideProcess, bedside as run } from '../helpers/cli.ts';
import { describe, expect, it } from 'vitest';
import { studyJsonSchema } from '../../src/lib/server/protocols/json-schema.ts';
import { loadStudyFile } from '../../src/lib/server/protocols/study-file.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { consent, submitScreening } from '../../src/lib/server/participants/journey.service.ts';
import { changeStatus } from '../../src/lib/server/prereg/prereg.service.ts';
import { tempDir } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

/** Runs `bedside …` as a user would, on its own embedded database folder. */
const bedside = (dataDir: string, ...args: string[]) => run({ BEDSIDE_DATA_DIR: dataDir }, ...args);

describe('bedside as its own process (the smoke test; the other CLI tests run it in-process)', () => {
	it('prints its commands, and a broken study file exits 1 with its problems', async () => {
		const help = await bedsideProcess({}, '--help');
		expect(help.code).toBe(0);
		expect(help.stdout).toMatch(/^usage: bedside <command> \[options\]/);
		for (const command of ['start', 'study', 'analyze', 'bots', 'randomization'])
			expect(help.stdout).toContain(`  ${command} `);
		const broken = await bedsideProcess(
			{ BEDSIDE_DATA_DIR: tempDir('bedside-cli-smoke-') },
			'study',
			'validate',
			'tests/fixtures/studies/broken/study.yaml'
		);
		expect(broken.code).toBe(1);
		expect(broken.stderr).toMatch(/problem\(s\)/);
	});
});

describe('bedside study / card (CLI)', () => {
	it('validate prints every problem of a broken file with its path, and exits 1', async () => {
		const result = await bedside(
			tempDir('bedside-cli-'),
			'study',
			'validate',
			'tests/fixtures/studies/broken/study.yaml'
		);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain('arms[2].assistant.temperature: must be ≤ 2 (line 25)');
		expect(result.stderr).toContain('arms[2].assistant.colour: unknown field (line 26)');
		expect(result.stderr).toContain(
			'slug: must be lowercase letters, digits and - (at most 63) (line 3)'
		);
	});

	it('walks a study from file to preregistration and back', async () => {
		const data = tempDir('bedside-cli-');
		const out = tempDir('bedside-cli-out-');
		expect(
			(await bedside(data, 'study', 'import', 'studies/triage-demo/study.yaml')).stderr
		).toMatch(/no assumption "decision_mediation" on a BenchmarkCard "bean-triage-scenarios"/);
		expect(
			(await bedside(data, 'card', 'import', 'studies/cards/bean-triage-scenarios.yaml')).stdout
		).toBe('card bean-triage-scenarios: imported\n');
		const imported = await bedside(data, 'study', 'import', 'studies/triage-demo/study.yaml');
		expect(imported.stdout).toMatch(
			/^triage-demo: created as a draft, version 1 \(SHA-256 [0-9a-f]{64}\)/
		);
		expect(
			(await bedside(data, 'study', 'import', 'studies/triage-demo/study.yaml')).stdout
		).toMatch(/^triage-demo: unchanged/);

		const exported = path.join(out, 'study.yaml');
		expect((await bedside(data, 'study', 'export', 'triage-demo', '--out', exported)).code).toBe(0);
		// Round trip: the exported file holds the same protocol as the original.
		const original = loadStudyFile('studies/triage-demo/study.yaml');
		const back = loadStudyFile(exported);
		if (!original.ok || !back.ok) throw new Error('both files must validate');
		expect(back.protocol).toEqual(original.protocol);

		const prereg = await bedside(
			data,
			'study',
			'preregister',
			'triage-demo',
			'--seed',
			'cli-test-seed'
		);
		expect(prereg.stdout).toMatch(/preregistered protocol version 1/);
		const md = await bedside(data, 'study', 'preregistration', 'triage-demo', '--format', 'md');
		expect(md.stdout).toMatch(/^# Preregistration: Where should I go\?/);
		expect(md.stdout).toContain('| assistant_llm | llm_assisted |');
		const json = JSON.parse(
			(await bedside(data, 'study', 'preregistration', 'triage-demo', '--format', 'json')).stdout
		);
		expect(json.registrations).toHaveLength(1);
		expect(json.randomization_seed).toBeNull();

		const amendNoReason = await bedside(data, 'study', 'amend', 'triage-demo', exported);
		expect(amendNoReason.code).toBe(2);
		expect(amendNoReason.stderr).toMatch(/an amendment needs --reason/);
	});

	it('studies/study.schema.json is the JSON Schema of the current format (bedside study schema)', () => {
		expect(fs.readFileSync('studies/study.schema.json', 'utf8')).toBe(studyJsonSchema());
	});
});

describe('bedside randomization verify (CLI)', () => {
	it('re-derives the allocations of a closed study from its revealed seed, and refuses a wrong seed', async () => {
		const data = tempDir('bedside-cli-verify-');
		const db = await openDatabase({ kind: 'pglite', dataDir: path.join(data, 'pglite') });
		try {
			await migrateToLatest(db.db);
			await newRecruitingStudy(db.db, 'verify-me', () => {}, 'the-secret-seed');
			for (let i = 0; i < 9; i++) {
				const { participant } = await consent(db.db, 'verify-me', {
					agree: true,
					params: new URLSearchParams()
				});
				await submitScreening(db.db, 'verify-me', participant.id, {
					adult: 'yes',
					medical_training: 'none',
					chatbot_use: i % 2 ? 'often' : 'rarely'
				});
			}
			await changeStatus(db.db, 'verify-me', 'close', CLI_ACTOR);
		} finally {
			await db.close();
		}
		const ok = await bedside(data, 'randomization', 'verify', 'verify-me');
		expect(ok.stdout).toContain('seed matches the preregistered commitment');
		expect(ok.stdout).toContain('OK: every allocation follows from the seed.');
		expect(ok.code).toBe(0);
		const wrong = await bedside(
			data,
			'randomization',
			'verify',
			'verify-me',
			'--seed',
			'a-guessed-seed'
		);
		expect(wrong.code).toBe(1);
		expect(wrong.stdout).toContain('does NOT match');
	});
});
