import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import {
	consent,
	finishReading,
	readyToDecide,
	recordEvents,
	EnrolmentThrottledError,
	PanelIdRequiredError,
	ResumeRequiredError,
	StudyNotOpenError,
	submitAttention,
	submitDecision,
	submitEndQuestionnaire,
	submitEpisodeQuestionnaire,
	submitInitialDecision,
	submitScreening,
	withdraw
} from '../../src/lib/server/participants/journey.service.ts';
import { participantView } from '../../src/lib/server/participants/participant-view.ts';
import { analyze } from '../../analysis/analyze.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { studyExport } from '../../src/lib/server/export/export.service.ts';
import { writeExportToDir } from '../../src/lib/server/export/writers.ts';
import { tempDir } from '../helpers/server.ts';
import {
	externalIdHash,
	recoverConsentSession,
	resolveEntry,
	resumeCodeOf,
	ResumeRefusedError,
	resumeWithCode
} from '../../src/lib/server/participants/entry.service.ts';
import {
	episodesOf,
	lockParticipant
} from '../../src/lib/server/participants/participants.repository.ts';
import { inTransaction } from '../../src/lib/server/db/types.ts';
import { preregistrationsOf } from '../../src/lib/server/prereg/prereg.repository.ts';
import { amend } from '../../src/lib/server/prereg/prereg.service.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { verifyAllocations } from '../../src/lib/server/randomization/allocation.service.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

const params = (q: string) => new URLSearchParams(q);
const ELIGIBLE = { adult: 'yes', medical_training: 'none', chatbot_use: 'often' };

describe.each(databaseKinds())('the participant journey (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('takes a participant from consent to completion code; repeated submits change nothing', async () => {
		const protocol = await newRecruitingStudy(t.db, 'journey-1');
		const { participant, token } = await consent(t.db, 'journey-1', {
			agree: true,
			params: params('PROLIFIC_PID=abc123&STUDY_ID=s1&SESSION_ID=x')
		});
		expect(token).toBeDefined();
		expect(participant).toMatchObject({ status: 'consented', step: 'screening' });

		const bad = await submitScreening(t.db, 'journey-1', participant.id, { adult: 'maybe' }).catch(
			(e) => e
		);
		expect(bad).toBeInstanceOf(ValidationError);
		expect(bad.problems.map((p: { path: string }) => p.path)).toEqual([
			'adult',
			'medical_training',
			'chatbot_use'
		]);

		const allocated = await submitScreening(t.db, 'journey-1', participant.id, ELIGIBLE);
		expect(allocated).toMatchObject({
			status: 'allocated',
			step: 'episode',
			currentEpisode: 1,
			stratum: 'chatbot_use=often'
		});
		const again = await submitScreening(t.db, 'journey-1', participant.id, {
			...ELIGIBLE,
			chatbot_use: 'rarely'
		});
		expect(again.stratum).toBe('chatbot_use=often'); // the second submit is ignored
		const slots = await t.db
			.selectFrom('allocation_slots')
			.select('id')
			.where('participant_id', '=', participant.id)
			.execute();
		expect(slots).toHaveLength(1);

		for (const n of [1, 2]) {
			await finishReading(t.db, participant.id, n);
			await readyToDecide(t.db, participant.id, n);
			await submitDecision(t.db, protocol, participant.id, n, {
				disposition: 'routine_gp',
				conditions: ['gallstones', ' ', 'biliary colic']
			});
			// A double submit with another answer keeps the first.
			await submitDecision(t.db, protocol, participant.id, n, {
				disposition: 'ambulance',
				conditions: []
			});
			await submitEpisodeQuestionnaire(t.db, protocol, participant.id, n, {
				confidence: '5',
				helpfulness: '6',
				would_follow: '4'
			});
		}
		await submitAttention(t.db, protocol, participant.id, { reading: 'Sometimes' });
		await submitEndQuestionnaire(t.db, protocol, participant.id, { trust_ai_health: '3' });

		const done = await t.db
			.selectFrom('participants')
			.selectAll()
			.where('id', '=', participant.id)
			.executeTakeFirstOrThrow();
		expect(done).toMatchObject({
			status: 'completed',
			step: 'complete',
			completion_code: 'BEDSIDE-TRIAGE'
		});
		expect(done.entry_params).toEqual({ STUDY_ID: 's1', SESSION_ID: 'x' });
		expect(done.external_id_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(done)).not.toContain('abc123'); // the panel id itself is never stored
		const study = await findStudyBySlug(t.db, 'journey-1');
		expect(done.protocol_version_id).toBe(
			(await preregistrationsOf(t.db, study!.id))[0]!.protocolVersionId
		);

		const decisions = await t.db
			.selectFrom('decisions')
			.innerJoin('episodes', 'episodes.id', 'decisions.episode_id')
			.select(['decisions.disposition', 'decisions.conditions_text'])
			.where('episodes.participant_id', '=', participant.id)
			.execute();
		expect(decisions).toEqual([
			{ disposition: 'routine_gp', conditions_text: ['gallstones', 'biliary colic'] },
			{ disposition: 'routine_gp', conditions_text: ['gallstones', 'biliary colic'] }
		]);
		// The rule coder coded what was typed against each episode's scenario, beside the decision.
		const codings = await t.db
			.selectFrom('decision_codings')
			.innerJoin('decisions', 'decisions.id', 'decision_codings.decision_id')
			.innerJoin('episodes', 'episodes.id', 'decisions.episode_id')
			.innerJoin('scenarios', 'scenarios.id', 'episodes.scenario_id')
			.select(['scenarios.key', 'decision_codings.coder', 'decision_codings.conditions_coded'])
			.where('episodes.participant_id', '=', participant.id)
			.execute();
		expect(codings).toHaveLength(2);
		for (const c of codings)
			expect(c).toEqual({
				key: c.key,
				coder: 'rule',
				conditions_coded: c.key === 'gallstones' ? ['biliary-colic'] : []
			});
		const measures = await t.db
			.selectFrom('measures')
			.select(['measure', 'value_numeric', 'value_text'])
			.where('participant_id', '=', participant.id)
			.orderBy('id')
			.execute();
		expect(measures.map((m) => m.measure)).toEqual([
			'chatbot_use',
			'confidence',
			'helpfulness',
			'would_follow',
			'confidence',
			'helpfulness',
			'would_follow',
			'attention_reading',
			'trust_ai_health'
		]);
		expect((await episodesOf(t.db, participant.id)).map((e) => e.step)).toEqual(['done', 'done']);
	});

	it('one panel id is one participant: a second device needs the resume code, a stranger gets nothing', async () => {
		await newRecruitingStudy(t.db, 'journey-2');
		const study = (await findStudyBySlug(t.db, 'journey-2'))!;
		const first = await consent(t.db, 'journey-2', {
			agree: true,
			params: params('PROLIFIC_PID=same-person'),
			nonce: 'nonceofthefirstdevice'
		});
		await submitScreening(t.db, 'journey-2', first.participant.id, ELIGIBLE);
		// The same id from another browser (another device, or someone who knows the id): no session.
		await expect(
			consent(t.db, 'journey-2', {
				agree: true,
				params: params('PROLIFIC_PID=same-person'),
				nonce: 'nonceofanotherdevice1'
			})
		).rejects.toBeInstanceOf(ResumeRequiredError);
		expect(
			await resolveEntry(t.db, study, { token: undefined, externalId: 'same-person' })
		).toEqual({ kind: 'resume', forgetCookie: false, finished: false });
		// A wrong code is refused and changes nothing; the right one moves the session here.
		await expect(
			resumeWithCode(t.db, study, {
				code: 'AAAAA-AAAAA',
				externalId: 'same-person',
				address: '10.0.0.9'
			})
		).rejects.toBeInstanceOf(ValidationError);
		expect(
			(await resolveEntry(t.db, study, { token: first.token, externalId: 'same-person' })).kind
		).toBe('participant');
		const code = await resumeCodeOf(t.db, first.participant.id);
		expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
		const moved = await resumeWithCode(t.db, study, {
			code: code.toLowerCase().replace('-', ' '),
			externalId: 'same-person',
			address: '10.0.0.9'
		});
		expect(moved.participant.id).toBe(first.participant.id);
		// The first device's session ended: it is told so, and never offered a new consent.
		expect(await resolveEntry(t.db, study, { token: first.token, externalId: null })).toEqual({
			kind: 'moved'
		});
		const here = await resolveEntry(t.db, study, { token: moved.token, externalId: null });
		expect(here.kind === 'participant' && here.participant.id).toBe(first.participant.id);
		// The code alone (a lab study without panel ids) finds the same participant.
		const again = await resumeWithCode(t.db, study, {
			code,
			externalId: null,
			address: '10.0.0.9'
		});
		expect(again.participant.id).toBe(first.participant.id);
		const count = await t.db
			.selectFrom('participants')
			.select((eb) => eb.fn.countAll<number>().as('n'))
			.where('study_id', '=', study.id)
			.executeTakeFirstOrThrow();
		expect(Number(count.n)).toBe(1);
	});

	it('a browser whose consent answer was lost gets its session back from its nonce, and only it', async () => {
		await newRecruitingStudy(t.db, 'journey-lost');
		const study = (await findStudyBySlug(t.db, 'journey-lost'))!;
		// The consent is committed; the answer (with the session cookie) never reaches the browser.
		const stored = await consent(t.db, 'journey-lost', {
			agree: true,
			params: params('PROLIFIC_PID=lost-answer'),
			nonce: 'thisbrowsersnonce0001'
		});
		const recovered = await recoverConsentSession(t.db, study, 'thisbrowsersnonce0001');
		expect(recovered).toBe(stored.token);
		expect(await recoverConsentSession(t.db, study, 'anotherbrowsernonce01')).toBeUndefined();
		expect(await recoverConsentSession(t.db, study, undefined)).toBeUndefined();
	});

	it('a different panel id in a browser that holds a session never inherits it', async () => {
		await newRecruitingStudy(t.db, 'journey-shared');
		const study = (await findStudyBySlug(t.db, 'journey-shared'))!;
		const a = await consent(t.db, 'journey-shared', {
			agree: true,
			params: params('PROLIFIC_PID=person-a')
		});
		expect(await resolveEntry(t.db, study, { token: a.token, externalId: 'person-b' })).toEqual({
			kind: 'new',
			forgetCookie: true
		});
		const b = await consent(t.db, 'journey-shared', {
			agree: true,
			params: params('PROLIFIC_PID=person-b')
		});
		expect(b.participant.id).not.toBe(a.participant.id);
	});

	it('limits resume-code guesses per participant, counting them before they are checked', async () => {
		await newRecruitingStudy(t.db, 'journey-guess');
		const study = (await findStudyBySlug(t.db, 'journey-guess'))!;
		const real = await consent(t.db, 'journey-guess', {
			agree: true,
			params: params('PROLIFIC_PID=target')
		});
		const code = await resumeCodeOf(t.db, real.participant.id);
		// 12 wrong guesses at once from different addresses: at most 5 are checked, the rest refused.
		const outcomes = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				resumeWithCode(t.db, study, {
					code: 'ZZZZZ-ZZZZZ',
					externalId: 'target',
					address: `10.1.0.${i}`
				}).catch((e: unknown) => e)
			)
		);
		const checked = outcomes.filter((e) => e instanceof ValidationError).length;
		const refused = outcomes.filter((e) => e instanceof ResumeRefusedError).length;
		expect(checked).toBeLessThanOrEqual(5);
		expect(checked + refused).toBe(12);
		// Locked for this participant now, even with the right code; the real session is untouched.
		await expect(
			resumeWithCode(t.db, study, { code, externalId: 'target', address: '10.2.0.1' })
		).rejects.toBeInstanceOf(ResumeRefusedError);
		expect(
			(await resolveEntry(t.db, study, { token: real.token, externalId: 'target' })).kind
		).toBe('participant');
	});

	it('a double click on "I agree" with a panel id makes one participant, not an error', async () => {
		await newRecruitingStudy(t.db, 'journey-double');
		// The instance's hashing key exists already (its creation would serialize the consents).
		await externalIdHash(t.db, 'journey-double', 'warm-up');
		// Each consent in its own transaction (on PostgreSQL, its own connection), as requests are.
		const both = await Promise.all(
			Array.from({ length: 8 }, () =>
				consent(t.db, 'journey-double', {
					agree: true,
					params: params('PROLIFIC_PID=double-click'),
					nonce: 'thesameconsentform01'
				})
			)
		);
		expect(new Set(both.map((b) => b.participant.id)).size).toBe(1);
		const rows = await t.db
			.selectFrom('participants')
			.innerJoin('studies', 'studies.id', 'participants.study_id')
			.where('studies.slug', '=', 'journey-double')
			.select('participants.id')
			.execute();
		expect(rows).toHaveLength(1);
	});

	it('a double click on "I agree" without a panel id makes one participant with one cookie', async () => {
		await newRecruitingStudy(t.db, 'journey-double-anon');
		const both = await Promise.all(
			Array.from({ length: 4 }, () =>
				consent(t.db, 'journey-double-anon', {
					agree: true,
					params: params(''),
					nonce: 'oneconsentformnonce1'
				})
			)
		);
		expect(new Set(both.map((b) => b.participant.id)).size).toBe(1);
		expect(new Set(both.map((b) => b.token)).size).toBe(1);
	});

	it('keeps a participant on the protocol version they consented under, through amendments', async () => {
		const v1 = await newRecruitingStudy(t.db, 'journey-pinned');
		const early = await consent(t.db, 'journey-pinned', { agree: true, params: params('') });
		const mid = await consent(t.db, 'journey-pinned', { agree: true, params: params('') });
		await submitScreening(t.db, 'journey-pinned', mid.participant.id, ELIGIBLE);
		await finishReading(t.db, mid.participant.id, 1);
		await readyToDecide(t.db, mid.participant.id, 1);
		// The amendment renames every scenario: nothing of version 1's scenario list survives.
		const v2 = structuredClone(v1);
		for (const scenario of v2.scenarios) scenario.id = `${scenario.id}_v2`;
		await amend(t.db, 'journey-pinned', v2, 'scenarios rewritten', CLI_ACTOR);

		// Consented before, screened after: allocated with version 1's scenarios, decides without error.
		await submitScreening(t.db, 'journey-pinned', early.participant.id, ELIGIBLE);
		const earlyEpisodes = await episodesOf(t.db, early.participant.id);
		expect(earlyEpisodes.every((e) => v1.scenarios.some((s) => s.id === e.scenarioKey))).toBe(true);
		await finishReading(t.db, early.participant.id, 1);
		await readyToDecide(t.db, early.participant.id, 1);
		await submitDecision(t.db, v1, early.participant.id, 1, {
			disposition: 'self_care',
			conditions: []
		});
		expect((await episodesOf(t.db, early.participant.id))[0]!.step).toBe('questionnaire');

		// Between two episodes: the second episode still runs on version 1.
		await submitDecision(t.db, v1, mid.participant.id, 1, {
			disposition: 'routine_gp',
			conditions: []
		});
		const items = Object.fromEntries(
			v1.questionnaires.per_episode.map((i) => [i.id, String(i.scale.min)])
		);
		await submitEpisodeQuestionnaire(t.db, v1, mid.participant.id, 1, items);
		await finishReading(t.db, mid.participant.id, 2);
		await readyToDecide(t.db, mid.participant.id, 2);
		await submitDecision(t.db, v1, mid.participant.id, 2, {
			disposition: 'self_care',
			conditions: []
		});
		const midEpisodes = await episodesOf(t.db, mid.participant.id);
		expect(midEpisodes.map((e) => e.step)).toEqual(['done', 'questionnaire']);
		expect(midEpisodes.every((e) => !e.scenarioKey.endsWith('_v2'))).toBe(true);
		// Someone who consents now runs on version 2.
		const late = await consent(t.db, 'journey-pinned', { agree: true, params: params('') });
		await submitScreening(t.db, 'journey-pinned', late.participant.id, ELIGIBLE);
		expect(
			(await episodesOf(t.db, late.participant.id)).every((e) => e.scenarioKey.endsWith('_v2'))
		).toBe(true);
	});

	it('declining keeps only what the page says: no panel parameters, no telemetry', async () => {
		await newRecruitingStudy(t.db, 'journey-decline');
		const declined = await consent(t.db, 'journey-decline', {
			agree: false,
			params: params('PROLIFIC_PID=no-thanks&STUDY_ID=s1&SESSION_ID=x1')
		});
		const row = await t.db
			.selectFrom('participants')
			.selectAll()
			.where('id', '=', declined.participant.id)
			.executeTakeFirstOrThrow();
		expect(row).toMatchObject({
			status: 'declined',
			step: 'declined',
			entry_params: {},
			screening: {},
			resume_code_hash: null,
			consented_at: null,
			stratum: null
		});
		expect(row.external_id_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(row.session_token_hash).toMatch(/^[0-9a-f]{64}$/);
		const events = await t.db
			.selectFrom('episode_events')
			.select('id')
			.where('participant_id', '=', declined.participant.id)
			.execute();
		expect(events).toEqual([]);
	});

	it('ends politely for people who decline or are not eligible, and lets anyone withdraw', async () => {
		await newRecruitingStudy(t.db, 'journey-3');
		const declined = await consent(t.db, 'journey-3', { agree: false, params: params('') });
		expect(declined.participant).toMatchObject({ status: 'declined', step: 'declined' });
		const minor = await consent(t.db, 'journey-3', { agree: true, params: params('') });
		expect(
			await submitScreening(t.db, 'journey-3', minor.participant.id, { ...ELIGIBLE, adult: 'no' })
		).toMatchObject({ status: 'ineligible' });
		expect(
			await t.db
				.selectFrom('allocation_slots')
				.select('id')
				.where('participant_id', '=', minor.participant.id)
				.execute()
		).toEqual([]);
		const leaver = await consent(t.db, 'journey-3', { agree: true, params: params('') });
		await submitScreening(t.db, 'journey-3', leaver.participant.id, ELIGIBLE);
		await withdraw(t.db, leaver.participant.id);
		const row = await t.db
			.selectFrom('participants')
			.select(['status', 'withdrawn_at'])
			.where('id', '=', leaver.participant.id)
			.executeTakeFirstOrThrow();
		expect(row.status).toBe('withdrawn');
		// The allocation of a participant who left is kept (CONSORT counts them).
		expect(
			await t.db
				.selectFrom('allocation_slots')
				.select('id')
				.where('participant_id', '=', leaver.participant.id)
				.execute()
		).toHaveLength(1);
	});

	it('a Prolific study enrols nobody through a bare link, and limits enrolments per address', async () => {
		await newRecruitingStudy(t.db, 'journey-panel', (p) => {
			delete p.recruitment.require_panel_id; // the default for panel: prolific
		});
		await expect(
			consent(t.db, 'journey-panel', { agree: true, params: params('') })
		).rejects.toBeInstanceOf(PanelIdRequiredError);
		const throttle = { address: '10.5.0.1', max: 3 };
		for (let i = 0; i < 3; i++)
			await consent(t.db, 'journey-panel', {
				agree: true,
				params: params(`PROLIFIC_PID=script-${i}`),
				throttle
			});
		await expect(
			consent(t.db, 'journey-panel', {
				agree: true,
				params: params('PROLIFIC_PID=script-9'),
				throttle
			})
		).rejects.toBeInstanceOf(EnrolmentThrottledError);
		// Someone else, elsewhere, is not affected.
		await consent(t.db, 'journey-panel', {
			agree: true,
			params: params('PROLIFIC_PID=elsewhere'),
			throttle: { address: '10.5.0.2', max: 3 }
		});
	});

	it('takes no new participant unless the study is recruiting', async () => {
		await newRecruitingStudy(t.db, 'journey-4');
		await sql`update studies set status = 'paused' where slug = 'journey-4'`.execute(t.db);
		await expect(
			consent(t.db, 'journey-4', { agree: true, params: params('') })
		).rejects.toBeInstanceOf(StudyNotOpenError);
	});

	it('verify re-derives every allocation from the revealed seed, and catches a tampered one', async () => {
		const protocol = await newRecruitingStudy(t.db, 'journey-5');
		for (let i = 0; i < 12; i++) {
			const { participant } = await consent(t.db, 'journey-5', { agree: true, params: params('') });
			await submitScreening(t.db, 'journey-5', participant.id, {
				...ELIGIBLE,
				chatbot_use: i % 3 ? 'often' : 'rarely'
			});
		}
		const study = (await findStudyBySlug(t.db, 'journey-5'))!;
		const commitment = (await preregistrationsOf(t.db, study.id))[0]!.seedSha256;
		const report = await verifyAllocations(t.db, study.id, protocol, 'seed-journey-5', commitment);
		expect(report).toMatchObject({ ok: true, seedMatchesCommitment: true, taken: 12 });
		expect(
			(await verifyAllocations(t.db, study.id, protocol, 'a guessed seed', commitment))
				.seedMatchesCommitment
		).toBe(false);

		// A superuser swaps the arm of a taken slot behind the trigger's back.
		await sql`alter table allocation_slots disable trigger allocation_slots_guard`.execute(t.db);
		await sql`update allocation_slots s set arm_id = (select id from arms where study_id = s.study_id and id <> s.arm_id limit 1)
			where s.id = (select id from allocation_slots where study_id = ${study.id} and participant_id is not null order by id limit 1)`.execute(
			t.db
		);
		await sql`alter table allocation_slots enable trigger allocation_slots_guard`.execute(t.db);
		const tampered = await verifyAllocations(
			t.db,
			study.id,
			protocol,
			'seed-journey-5',
			commitment
		);
		expect(tampered.ok).toBe(false);
		expect(tampered.problems[0]).toMatch(/position 1: stored arm \S+, the seed gives \S+/);
	});

	it('allocates by minimization, reproducibly', async () => {
		const protocol = await newRecruitingStudy(t.db, 'journey-6', (p) => {
			p.randomization = { method: 'minimization', factors: ['chatbot_use'], probability: 0.8 };
		});
		for (let i = 0; i < 30; i++) {
			const { participant } = await consent(t.db, 'journey-6', { agree: true, params: params('') });
			await submitScreening(t.db, 'journey-6', participant.id, {
				...ELIGIBLE,
				chatbot_use: i % 2 ? 'often' : 'rarely'
			});
		}
		const study = (await findStudyBySlug(t.db, 'journey-6'))!;
		const commitment = (await preregistrationsOf(t.db, study.id))[0]!.seedSha256;
		expect(
			await verifyAllocations(t.db, study.id, protocol, 'seed-journey-6', commitment)
		).toMatchObject({ ok: true, taken: 30 });
		const arms = await t.db
			.selectFrom('allocation_slots')
			.innerJoin('arms', 'arms.id', 'allocation_slots.arm_id')
			.select(['arms.key', (eb) => eb.fn.countAll<number>().as('n')])
			.where('allocation_slots.study_id', '=', study.id)
			.groupBy('arms.key')
			.execute();
		const counts = arms.map((a) => Number(a.n));
		expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(3);
	});
});

describe.runIf(databaseKinds().includes('pg'))('300 concurrent enrollments (pg)', () => {
	const database = useTestDatabase('pg');

	it('allocate every participant exactly once, never reuse a slot, and keep every complete block balanced', async () => {
		const t = database();
		await newRecruitingStudy(t.db, 'burst');
		// Separate pools stand in for separate app instances on one database.
		const instances = await Promise.all(
			[1, 2, 3].map(() => openDatabase({ kind: 'pg', url: t.url!, poolSize: 10 }))
		);
		try {
			await Promise.all(
				Array.from({ length: 300 }, async (_, i) => {
					const db = instances[i % 3]!.db;
					const { participant } = await consent(db, 'burst', {
						agree: true,
						params: params(`PROLIFIC_PID=p${i}`)
					});
					await submitScreening(db, 'burst', participant.id, {
						...ELIGIBLE,
						chatbot_use: i % 4 ? 'often' : 'rarely'
					});
				})
			);
		} finally {
			await Promise.all(instances.map((i) => i.close()));
		}
		const study = (await findStudyBySlug(t.db, 'burst'))!;
		const taken = await t.db
			.selectFrom('allocation_slots')
			.innerJoin('arms', 'arms.id', 'allocation_slots.arm_id')
			.select([
				'allocation_slots.participant_id',
				'allocation_slots.stratum',
				'allocation_slots.position',
				'allocation_slots.block_number',
				'allocation_slots.block_size',
				'arms.key'
			])
			.where('allocation_slots.study_id', '=', study.id)
			.where('allocation_slots.participant_id', 'is not', null)
			.execute();
		expect(taken).toHaveLength(300);
		expect(new Set(taken.map((s) => s.participant_id)).size).toBe(300);
		const participants = await t.db
			.selectFrom('participants')
			.select('status')
			.where('study_id', '=', study.id)
			.execute();
		expect(participants.filter((p) => p.status === 'allocated')).toHaveLength(300);
		// Within a stratum the taken positions are 1..n: no gaps (no slot skipped for good) and no reuse.
		for (const stratum of ['chatbot_use=often', 'chatbot_use=rarely']) {
			const positions = taken
				.filter((s) => s.stratum === stratum)
				.map((s) => s.position)
				.sort((a, b) => a - b);
			expect(positions).toEqual(positions.map((_, i) => i + 1));
			const blocks = new Map<number, string[]>();
			for (const s of taken.filter((x) => x.stratum === stratum))
				blocks.set(s.block_number!, [...(blocks.get(s.block_number!) ?? []), s.key]);
			for (const [block, arms] of blocks) {
				const size = taken.find(
					(s) => s.stratum === stratum && s.block_number === block
				)!.block_size!;
				if (arms.length < size) continue; // the last block may still be filling
				const counts = [
					...arms
						.reduce((m, a) => m.set(a, (m.get(a) ?? 0) + 1), new Map<string, number>())
						.values()
				];
				expect(counts).toEqual([size / 3, size / 3, size / 3]);
			}
		}
	});
});

describe.each(databaseKinds())('a decision before the advice (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('asks for it after the scenario, keeps it once, reminds of it, and exports it', async () => {
		const protocol = await newRecruitingStudy(t.db, 'initial-1', (p) => {
			p.initial_decision = { show_on_final: 'remind' };
			p.arms = p.arms.filter((a) => a.kind === 'control');
		});
		const { participant } = await consent(t.db, 'initial-1', { agree: true, params: params('') });
		await submitScreening(t.db, 'initial-1', participant.id, ELIGIBLE);
		await finishReading(t.db, participant.id, 1);
		// The page's view, from the participant's row as the page reads it (under its lock).
		const view = () =>
			inTransaction(t.db, async (trx) =>
				participantView(trx, protocol, await lockParticipant(trx, participant.id))
			);
		expect(await view()).toMatchObject({ kind: 'episode', step: 'initial', episode: 1 });
		// "Ready" is refused at this step: the initial decision comes first.
		await readyToDecide(t.db, participant.id, 1);
		expect(await view()).toMatchObject({ step: 'initial' });
		const bad = await submitInitialDecision(t.db, protocol, participant.id, 1, {
			disposition: 'maybe'
		}).catch((e) => e);
		expect(bad).toBeInstanceOf(ValidationError);
		await submitInitialDecision(t.db, protocol, participant.id, 1, { disposition: 'self_care' });
		// A double submit with another answer keeps the first; the database refuses a change.
		await submitInitialDecision(t.db, protocol, participant.id, 1, { disposition: 'ambulance' });
		const stored = await t.db
			.selectFrom('initial_decisions')
			.select(['id', 'disposition'])
			.execute();
		expect(stored.map((s) => s.disposition)).toEqual(['self_care']);
		const change =
			await sql`update initial_decisions set disposition = 'ambulance' where id = ${stored[0]!.id}`
				.execute(t.db)
				.catch((e) => e);
		expect(change.code).toBe('BS001');
		expect(await view()).toMatchObject({ step: 'assist' });
		await readyToDecide(t.db, participant.id, 1);
		const decision = await view();
		const selfCare = protocol.disposition_scale.find((d) => d.id === 'self_care')!.label;
		expect(decision).toMatchObject({ step: 'decision', initialReminder: selfCare });
		await submitDecision(t.db, protocol, participant.id, 1, {
			disposition: 'routine_gp',
			conditions: []
		});

		const dir = tempDir('bedside-initial-');
		await writeExportToDir(
			await studyExport(t.db, 'initial-1', { freeText: false, scrub: false }, CLI_ACTOR),
			dir
		);
		const data = readExportDir(dir);
		const e = data.episodes.find((x) => x.participant === participant.id && x.episode === 1)!;
		expect(e).toMatchObject({
			initialDisposition: 'self_care',
			disposition: 'routine_gp',
			userMessages: 0
		});
		const scenario = protocol.scenarios.find((s) => s.id === e.scenario)!;
		expect(e.initialDispositionCorrect).toBe(scenario.correct_disposition === 'self_care' ? 1 : 0);
		const result = analyze(data, { mixedModel: false });
		expect(result.advice_taking[0]).toMatchObject({ arm: 'control', n: 1 });
	});
});

describe.each(databaseKinds())('interaction integrity (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('holds "ready" until the minimum time, counts pastes and absences, and exports them', async () => {
		const protocol = await newRecruitingStudy(t.db, 'integrity-1', (p) => {
			p.assistant_step = { min_seconds: 30 };
			p.arms = p.arms.filter((a) => a.kind === 'control');
		});
		const { participant } = await consent(t.db, 'integrity-1', { agree: true, params: params('') });
		await submitScreening(t.db, 'integrity-1', participant.id, ELIGIBLE);
		const start = new Date();
		await finishReading(t.db, participant.id, 1, start);
		// Too early: refused, with how long to go.
		const early = await readyToDecide(
			t.db,
			participant.id,
			1,
			new Date(start.getTime() + 10_000)
		).catch((e) => e);
		expect(early).toBeInstanceOf(ValidationError);
		expect(early.problems[0].message).toMatch(/at least 30 seconds.*\(20 to go\)/);
		// The page reports a paste (its length, no text) and the tab being hidden.
		await recordEvents(t.db, participant.id, [
			{
				kind: 'paste',
				episode: 1,
				at: start.toISOString(),
				detail: { field: 'conditions', length: 120 }
			},
			{
				kind: 'paste',
				episode: 1,
				at: start.toISOString(),
				detail: { field: 'conditions', length: 30 }
			},
			{ kind: 'visibility_hidden', episode: 1, at: start.toISOString() },
			{
				kind: 'typing',
				episode: 1,
				at: start.toISOString(),
				detail: { field: 'conditions', ms: 12_500 }
			}
		]);
		await readyToDecide(t.db, participant.id, 1, new Date(start.getTime() + 31_000));
		await submitDecision(
			t.db,
			protocol,
			participant.id,
			1,
			{ disposition: 'routine_gp', conditions: [] },
			new Date(start.getTime() + 45_000)
		);
		const dir = tempDir('bedside-integrity-');
		await writeExportToDir(
			await studyExport(t.db, 'integrity-1', { freeText: false, scrub: false }, CLI_ACTOR),
			dir
		);
		const data = readExportDir(dir);
		const e = data.episodes.find((x) => x.participant === participant.id && x.episode === 1)!;
		expect(e).toMatchObject({ pastedChars: 150, hiddenEvents: 1, typingSeconds: 12.5 });
		expect(e.assistSeconds).toBeCloseTo(45, 0);
		const integrity = analyze(data, { mixedModel: false }).integrity[0]!;
		expect(integrity).toMatchObject({
			arm: 'control',
			pasted_share: 1,
			left_page_share: 1,
			fast_share: 0,
			median_typing_seconds: 12.5
		});
	});
});

describe.each(databaseKinds())('a minimum of messages before deciding (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('refuses "ready" in an LLM arm until the participant has written to the assistant', async () => {
		await newRecruitingStudy(t.db, 'turns-1', (p) => {
			p.assistant_step = { min_turns: 1 };
			p.arms = p.arms.filter((a) => a.id === 'assistant_scripted');
		});
		const { participant } = await consent(t.db, 'turns-1', { agree: true, params: params('') });
		await submitScreening(t.db, 'turns-1', participant.id, ELIGIBLE);
		await finishReading(t.db, participant.id, 1);
		const refused = await readyToDecide(t.db, participant.id, 1).catch((e) => e);
		expect(refused).toBeInstanceOf(ValidationError);
		expect(refused.problems[0].message).toMatch(/send the assistant at least 1 message/);
	});
});
