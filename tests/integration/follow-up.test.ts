import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import {
	FollowUpClosedError,
	followUpView,
	submitFollowUp
} from '../../src/lib/server/follow-ups/follow-ups.service.ts';
import { followUpLinksOf } from '../../src/lib/server/follow-ups/follow-up-links.ts';
import {
	consent,
	finishReading,
	readyToDecide,
	submitAttention,
	submitDecision,
	submitEndQuestionnaire,
	submitEpisodeQuestionnaire,
	submitScreening,
	withdraw
} from '../../src/lib/server/participants/journey.service.ts';
import { participantView } from '../../src/lib/server/participants/participant-view.ts';
import {
	findParticipantById,
	lockParticipant
} from '../../src/lib/server/participants/participants.repository.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { validateProtocol } from '../../src/lib/server/protocols/study-file.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ELIGIBLE, exampleProtocol, newRecruitingStudy } from '../helpers/studies.ts';

const DAY = 86_400_000;

function withFollowUp(p: StudyProtocol) {
	p.recruitment = {
		...p.recruitment,
		ending_codes: { failed_attention: 'ATTN-1', withdrew: 'LEFT-1', declined_consent: 'NO-1' },
		completion_url: 'https://app.prolific.com/submissions/complete?cc=BEDSIDE-TRIAGE'
	};
	p.follow_ups = [
		{
			id: 'day7',
			after_days: 7,
			window_days: 3,
			questions: [
				{ id: 'saw_doctor', text: 'Did you see a doctor?', kind: 'clinical', type: 'yes_no' }
			]
		}
	];
	p.outcomes.push({ name: 'saw_doctor', role: 'secondary', kind: 'clinical', source: 'follow_up' });
}

describe.each(databaseKinds())('follow-up waves and endings (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	async function complete(slug: string, protocol: StudyProtocol, attention = 'Sometimes') {
		const { participant } = await consent(t.db, slug, {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(t.db, slug, participant.id, ELIGIBLE);
		for (const n of [1, 2]) {
			await finishReading(t.db, participant.id, n);
			await readyToDecide(t.db, participant.id, n);
			await submitDecision(t.db, protocol, participant.id, n, {
				disposition: 'routine_gp',
				conditions: ['gallstones']
			});
			await submitEpisodeQuestionnaire(t.db, protocol, participant.id, n, {
				confidence: '5',
				helpfulness: '6',
				would_follow: '4'
			});
		}
		await submitAttention(t.db, protocol, participant.id, { reading: attention });
		await submitEndQuestionnaire(t.db, protocol, participant.id, { trust_ai_health: '3' });
		return (await findParticipantById(t.db, participant.id))!;
	}

	it('opens on day 7, takes one answer, then says so; expires after its window', async () => {
		const protocol = await newRecruitingStudy(t.db, 'fu-1', withFollowUp);
		const p = await complete('fu-1', protocol);
		const [link] = await followUpLinksOf(t.db, protocol, p);
		const token = link!.path.replace('/f/', '');
		const completedAt = Date.parse(link!.opensAt) - 7 * DAY;
		expect(Date.parse(link!.expiresAt) - Date.parse(link!.opensAt)).toBe(3 * DAY);
		// The completion page shows the link and the return link with the completion code.
		const view = await participantView(t.db, protocol, p);
		expect(view).toMatchObject({
			kind: 'complete',
			code: 'BEDSIDE-TRIAGE',
			url: 'https://app.prolific.com/submissions/complete?cc=BEDSIDE-TRIAGE',
			followUps: [{ id: 'day7', path: link!.path }]
		});

		const day = (d: number) => new Date(completedAt + d * DAY);
		expect((await followUpView(t.db, token, day(1))).kind).toBe('not_yet');
		await expect(submitFollowUp(t.db, token, { saw_doctor: '1' }, day(1))).rejects.toThrow(
			FollowUpClosedError
		);
		const bad = await submitFollowUp(t.db, token, { saw_doctor: 'maybe' }, day(8)).catch((e) => e);
		expect(bad).toBeInstanceOf(ValidationError);
		expect(bad.problems).toEqual([{ path: 'saw_doctor', message: 'must be one of 1, 0' }]);
		await submitFollowUp(t.db, token, { saw_doctor: '1' }, day(8));
		await submitFollowUp(t.db, token, { saw_doctor: '0' }, day(8.5)); // a second tab: no change
		expect((await followUpView(t.db, token, day(9))).kind).toBe('answered');
		const stored = await t.db
			.selectFrom('measures')
			.select(['measure', 'kind', 'value_numeric', 'source', 'episode_id'])
			.where('participant_id', '=', p.id)
			.where('measure', '=', 'saw_doctor')
			.execute();
		expect(stored).toEqual([
			{
				measure: 'saw_doctor',
				kind: 'clinical',
				value_numeric: 1,
				source: 'follow_up',
				episode_id: null
			}
		]);
		const response = await t.db
			.selectFrom('follow_up_responses')
			.selectAll()
			.where('participant_id', '=', p.id)
			.executeTakeFirstOrThrow();
		expect(response.days_since_completion).toBeCloseTo(8, 6);
		// Write-once in the database itself.
		await expect(
			sql`update follow_up_responses set days_since_completion = 1`.execute(t.db)
		).rejects.toThrow(/immutable/);
		await expect(sql`delete from follow_up_responses`.execute(t.db)).rejects.toThrow(/immutable/);

		// Another participant who never answers: expired after day 10.
		const q = await complete('fu-1', protocol);
		const [other] = await followUpLinksOf(t.db, protocol, q);
		const otherToken = other!.path.replace('/f/', '');
		const late = new Date(Date.parse(other!.expiresAt) + 1000);
		expect((await followUpView(t.db, otherToken, late)).kind).toBe('expired');
		await expect(submitFollowUp(t.db, otherToken, { saw_doctor: '1' }, late)).rejects.toThrow(
			/expired/
		);
		// A forged or altered link shows nothing.
		expect((await followUpView(t.db, otherToken.replace(/.$/, 'x'))).kind).toBe('invalid');
		expect((await followUpView(t.db, `${q.id}.day7.${'A'.repeat(32)}`)).kind).toBe('invalid');
		expect((await followUpView(t.db, `${p.id}.day8.${token.split('.')[2]}`)).kind).toBe('invalid');
	});

	it('shows each ending its code, and no follow-up to anyone who did not complete', async () => {
		const protocol = await newRecruitingStudy(t.db, 'fu-2', withFollowUp);
		const failed = await complete('fu-2', protocol, 'Never');
		expect(failed.completionCode).toBe('ATTN-1');
		expect(await participantView(t.db, protocol, failed)).toMatchObject({
			code: 'ATTN-1',
			url: 'https://app.prolific.com/submissions/complete?cc=ATTN-1'
		});
		const { participant } = await consent(t.db, 'fu-2', {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(t.db, 'fu-2', participant.id, ELIGIBLE);
		await withdraw(t.db, participant.id);
		const left = (await findParticipantById(t.db, participant.id))!;
		expect(await participantView(t.db, protocol, left)).toEqual({
			kind: 'withdrawn',
			code: 'LEFT-1',
			url: 'https://app.prolific.com/submissions/complete?cc=LEFT-1'
		});
		expect(await followUpLinksOf(t.db, protocol, left)).toEqual([]);
		const { participant: no } = await consent(t.db, 'fu-2', {
			agree: false,
			params: new URLSearchParams()
		});
		const declined = await t.db.transaction().execute((trx) => lockParticipant(trx, no.id));
		expect(await participantView(t.db, protocol, declined)).toMatchObject({
			kind: 'declined',
			code: 'NO-1'
		});
	});
});

describe('the protocol checks follow-ups and ending codes', () => {
	const base = () => {
		const p = exampleProtocol();
		withFollowUp(p);
		return p;
	};
	const problems = (p: StudyProtocol) => {
		const checked = validateProtocol(p);
		return checked.ok ? [] : checked.problems.map((x) => `${x.path}: ${x.message}`);
	};

	it('accepts the follow-up, and says what is wrong where', () => {
		expect(problems(base())).toEqual([]);
		const p = base();
		p.outcomes.at(-1)!.kind = 'proxy';
		p.follow_ups![0]!.questions.push({
			id: 'confidence',
			text: 'Again?',
			kind: 'proxy',
			type: 'scale'
		});
		p.recruitment.rejection_message = 'too short';
		expect(problems(p)).toEqual(
			expect.arrayContaining([
				expect.stringMatching(/^recruitment\.rejection_message: must be at least 100 characters/),
				'follow_ups[0].questions[1].id: "confidence" is already a question or item id',
				'follow_ups[0].questions[1].scale: a scale question needs a scale',
				'outcomes[4].kind: the follow-up question is clinical'
			])
		);
		const q = base();
		q.outcomes.push({ name: 'nowhere', role: 'secondary', kind: 'clinical', source: 'follow_up' });
		expect(problems(q)).toContain(
			'outcomes[5].name: a follow_up outcome must be a follow-up question id'
		);
	});
});
