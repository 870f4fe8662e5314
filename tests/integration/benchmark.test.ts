import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBenchmark } from '../../src/lib/server/assistant/benchmark.service.ts';
import { sendChatMessage } from '../../src/lib/server/assistant/chat.service.ts';
import { codeConversations, coderAgreement } from '../../src/lib/server/coding/coding.service.ts';
import {
	codingQueue,
	inHumanSample,
	conversationToRead,
	recordPersonCoding
} from '../../src/lib/server/coding/person-coding.service.ts';
import type { LlmConfig } from '../../src/lib/server/config.ts';
import {
	consent,
	finishReading,
	submitScreening
} from '../../src/lib/server/participants/journey.service.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFakeOpenAi, type ChatBody, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { verifyRunningConfig } from '../../src/lib/server/prereg/prereg.service.ts';
import { ELIGIBLE, newRecruitingStudy } from '../helpers/studies.ts';

const SCENARIOS = 9;
const isPatient = (b: ChatBody) => b.messages[0]?.content.includes('role-playing') ?? false;

let fake: FakeOpenAi;
beforeAll(async () => {
	fake = await startFakeOpenAi();
});
afterAll(() => fake.close());

describe.each(databaseKinds())('the LLM-alone condition and coding (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	let llm: LlmConfig;
	let n = 0;
	beforeEach(() => {
		t = database();
		fake.clear();
		fake.requests.length = 0;
		fake.reply = () => 'This sounds like a common cold. Rest at home and drink fluids.';
		llm = { endpoints: { default: { baseUrl: fake.url, apiKey: undefined } }, retryWindowMs: 300 };
	});

	async function study(change: (p: StudyProtocol) => void = () => {}) {
		const slug = `bench-${kind}-${++n}`;
		await newRecruitingStudy(t.db, slug, change);
		return { slug, studyId: (await findStudyBySlug(t.db, slug))!.id };
	}

	const recommendations = (runId: string) =>
		t.db
			.selectFrom('recommendations')
			.selectAll()
			.where('run_id', '=', runId)
			.orderBy('id')
			.execute();

	it('physician mode: every scenario × repeats, pinned parameters with the seed varied per repeat, all logged', async () => {
		const { slug, studyId } = await study();
		const progress: number[] = [];
		const report = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'physician',
			repeats: 3,
			llm,
			onProgress: (p) => progress.push(p.done)
		});
		expect(report).toMatchObject({
			total: SCENARIOS * 3,
			done: SCENARIOS * 3,
			failed: 0,
			finished: true
		});
		expect(progress).toEqual(Array.from({ length: SCENARIOS * 3 }, (_, i) => i + 1));
		const rows = await recommendations(report.runId);
		expect(rows).toHaveLength(SCENARIOS * 3);
		for (const r of rows)
			expect(r).toMatchObject({
				source: 'benchmark',
				mode: 'physician',
				coder: 'rule',
				disposition: 'self_care',
				item_key: 'physician'
			});
		expect(rows.find((r) => r.conditions_coded.length > 0)?.conditions_coded).toEqual([
			'common-cold'
		]);
		// The physician prompt, under the arm's system prompt, with seeds 7, 8, 9 for repeats 1–3.
		expect(fake.requests[0]!.messages[0]!.role).toBe('system');
		expect(fake.requests[0]!.messages[1]!.content).toMatch(
			/Most likely diagnosis|Diagnosis and disposition/
		);
		expect(fake.requests.slice(0, 3).map((r) => r.seed)).toEqual([7, 8, 9]);
		const calls = await t.db
			.selectFrom('assistant_calls')
			.select(['purpose', 'run_id', 'episode_id'])
			.where('study_id', '=', studyId)
			.execute();
		expect(calls).toHaveLength(SCENARIOS * 3);
		expect(
			calls.every(
				(c) => c.purpose === 'benchmark' && c.run_id === report.runId && c.episode_id === null
			)
		).toBe(true);
		const run = await t.db
			.selectFrom('benchmark_runs')
			.selectAll()
			.where('id', '=', report.runId)
			.executeTakeFirstOrThrow();
		expect(run.finished_at).not.toBeNull();
	});

	it('resumes a run where it stopped, storing each item once, and refuses other settings for it', async () => {
		const { slug } = await study();
		fake.enqueue({ kind: 'status', status: 400 }, { kind: 'status', status: 401 });
		const first = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'physician',
			repeats: 2,
			runId: 'resume-me',
			llm
		});
		expect(first).toMatchObject({ done: SCENARIOS * 2 - 2, failed: 2, finished: false });
		expect(first.failures[0]).toMatchObject({
			scenario: 'cold',
			repeat: 1,
			error: expect.stringMatching(/400/)
		});
		const second = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'physician',
			repeats: 2,
			runId: 'resume-me',
			llm
		});
		expect(second).toMatchObject({
			resumed: true,
			skipped: SCENARIOS * 2 - 2,
			done: SCENARIOS * 2,
			failed: 0,
			finished: true
		});
		expect(await recommendations('resume-me')).toHaveLength(SCENARIOS * 2);
		await expect(
			runBenchmark(t.db, {
				slug,
				armKey: 'assistant_llm',
				mode: 'physician',
				repeats: 5,
				runId: 'resume-me',
				llm
			})
		).rejects.toBeInstanceOf(ValidationError);
		await expect(
			runBenchmark(t.db, { slug, armKey: 'control', mode: 'physician', repeats: 1, llm })
		).rejects.toThrow(/no arm "control" with an assistant/);
	});

	it('patient-first-turn mode: each distinct first message participants wrote, per scenario', async () => {
		const { slug } = await study((p) => {
			p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
		});
		const firsts = ['my ankle hurts', 'my ankle hurts', 'I feel awful'];
		const scenariosUsed = new Set<string>();
		for (const text of firsts) {
			const { participant } = await consent(t.db, slug, {
				agree: true,
				params: new URLSearchParams()
			});
			await submitScreening(t.db, slug, participant.id, ELIGIBLE);
			await finishReading(t.db, participant.id, 1);
			await sendChatMessage(
				t.db,
				{ llm },
				{ participantId: participant.id, episode: 1, text },
				() => {}
			);
			const episode = await t.db
				.selectFrom('episodes')
				.innerJoin('scenarios', 'scenarios.id', 'episodes.scenario_id')
				.select('scenarios.key')
				.where('participant_id', '=', participant.id)
				.where('episode', '=', 1)
				.executeTakeFirstOrThrow();
			scenariosUsed.add(`${episode.key}|${text}`);
		}
		fake.requests.length = 0;
		const report = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'patient-first-turn',
			repeats: 2,
			llm
		});
		expect(report.total).toBe(scenariosUsed.size * 2);
		expect(report.empty.length).toBe(
			SCENARIOS - new Set([...scenariosUsed].map((s) => s.split('|')[0])).size
		);
		const sent = fake.requests.map((r) => r.messages.at(-1)!.content).sort();
		expect(sent).toEqual(
			[...scenariosUsed].flatMap((s) => [s.split('|')[1], s.split('|')[1]]).sort()
		);
		const rows = await recommendations(report.runId);
		expect(
			rows.every((r) => r.item_key!.startsWith('first-turn:') && r.mode === 'patient-first-turn')
		).toBe(true);
	});

	it('simulated mode: an LLM patient talks to the arm until it recommends a disposition', async () => {
		const { slug, studyId } = await study();
		fake.reply = (body) => {
			if (isPatient(body)) return 'I feel really unwell.';
			const turns = body.messages.filter((m) => m.role === 'user').length;
			return turns < 2 ? 'How long has this been going on?' : 'Please call an ambulance now.';
		};
		const report = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'simulated',
			repeats: 1,
			llm,
			patient: { model: 'patient-sim' }
		});
		expect(report).toMatchObject({ done: SCENARIOS, failed: 0 });
		const rows = await recommendations(report.runId);
		for (const r of rows) {
			expect(r.disposition).toBe('ambulance');
			expect(r.details).toMatchObject({
				turns: 2,
				reached_final_answer: true,
				patient_model: 'patient-sim'
			});
		}
		// The patient was told the participant's situation, and saw the assistant's words as "user".
		const patientCalls = fake.requests.filter(isPatient);
		expect(patientCalls).toHaveLength(SCENARIOS * 2);
		expect(patientCalls[0]!.model).toBe('patient-sim');
		expect(patientCalls[1]!.messages.slice(1).map((m) => m.role)).toEqual(['assistant', 'user']);
		const purposes = await t.db
			.selectFrom('assistant_calls')
			.select(['purpose', (eb) => eb.fn.countAll<number>().as('n')])
			.where('study_id', '=', studyId)
			.groupBy('purpose')
			.orderBy('purpose')
			.execute();
		expect(purposes.map((p) => [p.purpose, Number(p.n)])).toEqual([
			['benchmark', SCENARIOS * 2],
			['simulated_patient', SCENARIOS * 2]
		]);
		// The turn cap ends a conversation that never reaches a recommendation.
		fake.reply = (body) => (isPatient(body) ? 'Hm.' : 'Tell me more.');
		const capped = await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'simulated',
			repeats: 1,
			llm,
			maxTurns: 3
		});
		const cappedRows = await recommendations(capped.runId);
		expect(cappedRows[0]!.details).toMatchObject({ turns: 3, reached_final_answer: false });
		expect(cappedRows[0]!.disposition).toBeNull();
	});

	it('keeps to the rate limit', async () => {
		const { slug } = await study();
		const started = performance.now();
		await runBenchmark(t.db, {
			slug,
			armKey: 'assistant_llm',
			mode: 'physician',
			repeats: 1,
			llm,
			ratePerMinute: 1200
		});
		// 9 calls at most one per 50 ms: the last starts no earlier than 8 × 50 ms after the first.
		expect(performance.now() - started).toBeGreaterThanOrEqual(8 * 50);
	});

	it('codes conversations by rule and by a grader model, and reports their agreement', async () => {
		const { slug, studyId } = await study((p) => {
			p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
			p.coding = { grader: { model: 'grader-1' } };
		});
		const replies = [
			'Call 999 now, this could be serious.',
			'Rest at home; it is probably a cold.',
			'Go to A&E today.'
		];
		for (const reply of replies) {
			fake.reply = () => reply;
			const { participant } = await consent(t.db, slug, {
				agree: true,
				params: new URLSearchParams()
			});
			await submitScreening(t.db, slug, participant.id, ELIGIBLE);
			await finishReading(t.db, participant.id, 1);
			await sendChatMessage(
				t.db,
				{ llm },
				{ participantId: participant.id, episode: 1, text: 'help' },
				() => {}
			);
		}
		const rule = await codeConversations(t.db, slug, 'rule', llm);
		expect(rule).toMatchObject({ coder: 'rule', coded: 3, failed: [] });
		expect((await codeConversations(t.db, slug, 'rule', llm)).coded).toBe(0); // nothing left to code

		// The grader answers "ambulance" twice, then something outside the schema.
		const graded = [
			'{"disposition":"ambulance","conditions":[]}',
			'{"disposition":"ambulance","conditions":[]}',
			'{"disposition":"hospital","conditions":[]}'
		];
		let i = 0;
		fake.reply = () => graded[i++] ?? '{}';
		fake.requests.length = 0;
		const model = await codeConversations(t.db, slug, 'model', llm);
		expect(model.coder).toBe('model:grader-1');
		expect(model.coded).toBe(2);
		expect(model.failed).toHaveLength(1);
		expect(model.failed[0]!.error).toMatch(/schema/);
		const format = fake.requests[0]!.response_format!;
		expect(format.type).toBe('json_schema');
		expect(JSON.stringify(format.json_schema!.schema)).toContain('emergency_department');

		const rows = await t.db
			.selectFrom('recommendations')
			.select(['coder', 'disposition', 'source'])
			.where('study_id', '=', studyId)
			.orderBy('id')
			.execute();
		expect(
			rows
				.filter((r) => r.coder === 'rule')
				.map((r) => r.disposition)
				.sort()
		).toEqual(['ambulance', 'emergency_department', 'self_care'].sort());
		const [agreement] = await coderAgreement(t.db, studyId);
		expect(agreement!.coders).toEqual(['model:grader-1', 'rule']);
		expect(agreement!.disposition!.n).toBe(2);

		// A person codes the same conversations, blind to arm, each at most once.
		const queue = await codingQueue(t.db, slug, 'analyst-1');
		expect(queue).toMatchObject({ blind: true, total: 3, codedByMe: 0 });
		const first = queue.toCode[0]!.episodeId;
		const read = await conversationToRead(t.db, slug, first, 'analyst-1');
		expect(read!.armKey).toBeNull();
		const refused = await recordPersonCoding(t.db, slug, first, 'analyst-1', {
			disposition: 'hospital',
			conditions: ['appendicitis', 'no-such-condition']
		}).catch((e) => e);
		expect(refused).toBeInstanceOf(ValidationError);
		expect(refused.problems.map((p: { path: string }) => p.path)).toEqual([
			'disposition',
			'conditions'
		]);
		for (const e of queue.toCode)
			expect(
				await recordPersonCoding(t.db, slug, e.episodeId, 'analyst-1', {
					disposition: 'ambulance',
					conditions: []
				})
			).toBe(true);
		expect(
			await recordPersonCoding(t.db, slug, first, 'analyst-1', {
				disposition: 'self_care',
				conditions: []
			})
		).toBe(false); // the first coding stands
		expect(
			await conversationToRead(t.db, slug, '00000000-0000-0000-0000-000000000000', 'analyst-1')
		).toBeUndefined();
		// Another person sees the conversations in another order.
		const other = await codingQueue(t.db, slug, 'analyst-2');
		expect(other.toCode.map((c) => c.codedBy)).toEqual([1, 1, 1]);

		const pairs = await coderAgreement(t.db, studyId);
		expect(pairs.map((p) => p.coders)).toEqual([
			['model:grader-1', 'person:analyst-1'],
			['model:grader-1', 'rule'],
			['person:analyst-1', 'rule']
		]);
		// The person said "ambulance" for all three; the rule said ambulance, self_care, emergency_department.
		const personRule = pairs[2]!.disposition!;
		expect(personRule.n).toBe(3);
		expect(personRule.observed).toBeCloseTo(1 / 3, 12);
		expect(personRule.kappa).toBeCloseTo(0, 12); // one rater used one category: chance agreement = observed
	});

	it('offers people only the preregistered random sample of conversations to code', async () => {
		const { slug, studyId } = await study((p) => {
			p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
			p.coding = { human_sample: 0.5 };
		});
		fake.reply = () => 'Go to A&E today.';
		for (let k = 0; k < 10; k++) {
			const { participant } = await consent(t.db, slug, {
				agree: true,
				params: new URLSearchParams()
			});
			await submitScreening(t.db, slug, participant.id, ELIGIBLE);
			await finishReading(t.db, participant.id, 1);
			await sendChatMessage(
				t.db,
				{ llm },
				{ participantId: participant.id, episode: 1, text: 'help' },
				() => {}
			);
		}
		const episodes = await t.db
			.selectFrom('episodes')
			.innerJoin('participants', 'participants.id', 'episodes.participant_id')
			.select('episodes.id')
			.where('participants.study_id', '=', studyId)
			.where('episodes.episode', '=', 1)
			.execute();
		const { protocol } = await verifyRunningConfig(t.db, slug);
		const sampled = episodes
			.map((e) => e.id)
			.filter((id) => inHumanSample(protocol.analysis_plan.seed, id, 0.5));
		const queue = await codingQueue(t.db, slug, 'analyst-1');
		expect(queue.sample).toBe(0.5);
		expect(queue.total).toBe(sampled.length);
		expect(queue.toCode.map((c) => c.episodeId).sort()).toEqual([...sampled].sort());
		// Every coder gets the same sample (in an order of their own), so their codings overlap.
		const other = await codingQueue(t.db, slug, 'analyst-2');
		expect(other.toCode.map((c) => c.episodeId).sort()).toEqual([...sampled].sort());
		const outside = episodes.map((e) => e.id).find((id) => !sampled.includes(id));
		if (outside) {
			expect(await conversationToRead(t.db, slug, outside, 'analyst-1')).toBeUndefined();
			const refused = await recordPersonCoding(t.db, slug, outside, 'analyst-1', {
				disposition: 'ambulance',
				conditions: []
			}).catch((e) => e);
			expect(refused).toBeInstanceOf(ValidationError);
			expect(refused.problems[0].message).toMatch(/not in the sample people code/);
		}
	});
});
