import { maxReplyChars } from '../../src/lib/server/assistant/openai-provider.ts';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { participantView } from '../../src/lib/server/participants/participant-view.ts';
import {
	ChatRefusedError,
	sendChatMessage,
	type ChatDeps,
	type ChatEvent
} from '../../src/lib/server/assistant/chat.service.ts';
import { deviationsOf } from '../../src/lib/server/assistant/assistant.repository.ts';
import {
	consent,
	finishReading,
	readyToDecide,
	submitScreening
} from '../../src/lib/server/participants/journey.service.ts';
import {
	episodesOf,
	findParticipantById
} from '../../src/lib/server/participants/participants.repository.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { ELIGIBLE, newRecruitingStudy } from '../helpers/studies.ts';

/** Only the arm named stays, so every participant is allocated to it. */
function onlyArm(id: string, change: (a: StudyProtocol['arms'][number]) => void = () => {}) {
	return (p: StudyProtocol) => {
		p.arms = p.arms.filter((a) => a.id === id).map((a) => structuredClone(a));
		change(p.arms[0]!);
	};
}

let fake: FakeOpenAi;
beforeAll(async () => {
	fake = await startFakeOpenAi();
});
afterAll(() => fake.close());

describe.each(databaseKinds())('chatting with the assistant (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	let deps: ChatDeps;
	let n = 0;
	beforeEach(() => {
		t = database();
		fake.reply = (body) => `You said: ${body.messages.at(-1)?.content}`;
		fake.requests.length = 0;
		fake.clear();
		deps = {
			llm: {
				endpoints: { default: { baseUrl: fake.url, apiKey: 'sk-test-secret' } },
				retryWindowMs: 2000
			},
			baseDelayMs: 10
		};
	});

	/** A participant of a new study (one arm) at the assistant step of episode 1. */
	let protocol: StudyProtocol;
	async function atAssistant(change = onlyArm('assistant_llm')) {
		const slug = `chat-${kind}-${++n}`;
		protocol = await newRecruitingStudy(t.db, slug, change);
		const { participant } = await consent(t.db, slug, {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(t.db, slug, participant.id, ELIGIBLE);
		await finishReading(t.db, participant.id, 1);
		const study = (await findStudyBySlug(t.db, slug))!;
		return { slug, participantId: participant.id, studyId: study.id };
	}

	async function send(participantId: string, text?: string) {
		const events: ChatEvent[] = [];
		await sendChatMessage(t.db, deps, { participantId, episode: 1, text }, (e) => events.push(e));
		return events;
	}

	const calls = (studyId: string) =>
		t.db
			.selectFrom('assistant_calls')
			.selectAll()
			.where('study_id', '=', studyId)
			.orderBy('id')
			.execute();

	it('streams a reply with the pinned parameters and logs the call and both messages', async () => {
		const { participantId, studyId } = await atAssistant();
		const events = await send(participantId, '  My ankle hurts after a fall.  ');
		expect(events[0]).toEqual({
			type: 'accepted',
			turn: 1,
			content: 'My ankle hurts after a fall.'
		});
		const deltas = events.filter((e) => e.type === 'delta').map((e) => e.text);
		expect(deltas.length).toBeGreaterThan(3);
		expect(deltas.join('')).toBe('You said: My ankle hurts after a fall.');
		expect(events.at(-1)).toMatchObject({ type: 'reply', turn: 1, turnsLeft: 9 });

		const sent = fake.requests[0]!;
		expect(sent).toMatchObject({
			model: 'llama3.1:8b-instruct',
			temperature: 0.7,
			top_p: 1,
			seed: 7,
			max_tokens: 800,
			stream: true
		});
		expect(sent.messages[0]!.role).toBe('system');
		expect(sent.messages.at(-1)).toEqual({ role: 'user', content: 'My ankle hurts after a fall.' });

		const [call] = await calls(studyId);
		expect(call).toMatchObject({
			purpose: 'chat',
			provider: 'openai-compatible',
			model_returned: 'llama3.1:8b-instruct-served',
			system_fingerprint: 'fp_fake',
			finish_reason: 'stop',
			attempt: 1,
			error: null
		});
		expect(call!.tokens_in).toBeGreaterThan(10);
		expect(call!.tokens_out).toBe(8); // the fake counts words
		expect(call!.time_to_first_token_ms).not.toBeNull();
		expect(call!.latency_ms).not.toBeNull();
		expect(call!.request).toMatchObject({ endpoint: 'endpoint:default', seed: 7 });
		expect(JSON.stringify(call!.request)).not.toContain('sk-test-secret');

		const episode = (await episodesOf(t.db, participantId))[0]!;
		const messages = await t.db
			.selectFrom('messages')
			.select(['turn', 'role', 'content', 'assistant_call_id'])
			.where('episode_id', '=', episode.id)
			.orderBy('id')
			.execute();
		expect(messages).toEqual([
			{ turn: 1, role: 'user', content: 'My ankle hurts after a fall.', assistant_call_id: null },
			{
				turn: 1,
				role: 'assistant',
				content: 'You said: My ankle hurts after a fall.',
				assistant_call_id: call!.id
			}
		]);

		// The second turn sends the whole conversation so far.
		await send(participantId, 'It is swollen.');
		expect(fake.requests[1]!.messages.map((m) => m.role)).toEqual([
			'system',
			'user',
			'assistant',
			'user'
		]);
	});

	it('retries a 500, a 429, a dropped stream and malformed JSON, logging every attempt', async () => {
		const { participantId, studyId } = await atAssistant();
		fake.enqueue(
			{ kind: 'status', status: 500 },
			{ kind: 'status', status: 429 },
			{ kind: 'drop', afterTokens: 2 },
			{ kind: 'malformed' }
		);
		deps.llm.retryWindowMs = 10_000;
		const events = await send(participantId, 'Hello?');
		expect(events.filter((e) => e.type === 'reset')).toHaveLength(4);
		expect(events.at(-1)).toMatchObject({ type: 'reply', content: 'You said: Hello?' });
		const logged = await calls(studyId);
		expect(logged.map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5]);
		expect(logged[0]!.error).toMatch(/500/);
		expect(logged[1]!.error).toMatch(/429/);
		expect(logged[2]!.error).toMatch(/stream/);
		expect(logged[3]!.error).toMatch(/JSON|stream/);
		expect(logged[4]!.error).toBeNull();
		expect(await deviationsOf(t.db, studyId)).toEqual([]);
	});

	it('a resend during the retry backoff is refused as busy: one model call at a time per turn', async () => {
		const { participantId, studyId } = await atAssistant();
		deps.baseDelayMs = 600; // a backoff long enough to resend in
		fake.enqueue({ kind: 'status', status: 500 });
		const first = send(participantId, 'Is this serious?');
		// Resend while the first reply waits out its backoff (the first attempt has failed).
		while (fake.requests.length < 1) await new Promise((r) => setTimeout(r, 10));
		await new Promise((r) => setTimeout(r, 100));
		await expect(send(participantId)).rejects.toMatchObject({ code: 'busy' });
		const events = await first;
		expect(events.at(-1)).toMatchObject({ type: 'reply' });
		expect(fake.requests).toHaveLength(2); // the failed attempt and its one retry, nothing more
		expect((await calls(studyId)).map((c) => c.attempt)).toEqual([1, 2]);
	});

	it("honours a 429's Retry-After within the retry window, and gives up at once beyond it", async () => {
		const { participantId, studyId } = await atAssistant();
		fake.enqueue({ kind: 'status', status: 429, retryAfter: '1' });
		const started = performance.now();
		const events = await send(participantId, 'Hello?');
		expect(events.at(-1)).toMatchObject({ type: 'reply' });
		// The retry came after the second the endpoint asked for, not after the 10 ms backoff.
		expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
		expect((await calls(studyId)).map((c) => c.attempt)).toEqual([1, 2]);

		const other = await atAssistant();
		fake.enqueue({ kind: 'status', status: 429, retryAfter: '60' });
		const failed = await send(other.participantId, 'Hello again?');
		expect(failed.at(-1)).toMatchObject({ type: 'failed' });
		expect(await calls(other.studyId)).toHaveLength(1); // no attempt it could not wait for
	});

	it('cuts a reply far longer than the arm allows and records the cut as a deviation', async () => {
		const { participantId, studyId } = await atAssistant();
		const huge = 'word '.repeat(200_000); // 1 MB, whatever max_tokens asked for
		fake.enqueue({ kind: 'ok', content: huge });
		const events = await send(participantId, 'Tell me everything.');
		const reply = events.at(-1);
		expect(reply).toMatchObject({ type: 'reply' });
		const kept = (reply as { content: string }).content.length;
		expect(kept).toBe(maxReplyChars(800));
		const [call] = await calls(studyId);
		expect(call!.finish_reason).toBe('truncated_by_bedside');
		const deviations = await t.db
			.selectFrom('protocol_deviations')
			.select(['kind', 'details'])
			.where('study_id', '=', studyId)
			.execute();
		expect(deviations).toEqual([
			{ kind: 'reply_truncated', details: { turn: 1, kept_chars: kept } }
		]);
	});

	it('keeps the message when the assistant fails, records a deviation, and answers a resend', async () => {
		const { participantId, studyId } = await atAssistant();
		deps.llm.retryWindowMs = 200;
		fake.enqueue(...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 503 })));
		const events = await send(participantId, 'Is this serious?');
		expect(events.at(-1)).toMatchObject({ type: 'failed' });
		const deviations = await deviationsOf(t.db, studyId);
		expect(deviations).toHaveLength(1);
		expect(deviations[0]).toMatchObject({ kind: 'assistant_failure', armKey: 'assistant_llm' });
		expect(deviations[0]!.details).toMatchObject({ turn: 1 });
		// A deviation cannot be tidied away, not even by raw SQL.
		await expect(
			sql`delete from protocol_deviations where study_id = ${studyId}`.execute(t.db)
		).rejects.toThrow(/append-only/);

		const episode = (await episodesOf(t.db, participantId))[0]!;
		// What the participant's page shows after a reload.
		const page = await participantView(
			t.db,
			protocol,
			(await findParticipantById(t.db, participantId))!
		);
		const before = page.kind === 'episode' ? page.conversation : undefined;
		expect(before).toMatchObject({
			awaitingReply: true,
			messages: [{ role: 'user', content: 'Is this serious?' }]
		});

		// A new message is refused while the last one has no reply; a resend answers it.
		await expect(send(participantId, 'Hello?')).rejects.toMatchObject({ code: 'busy' });
		fake.clear();
		const resent = await send(participantId);
		expect(resent.at(-1)).toMatchObject({
			type: 'reply',
			turn: 1,
			content: 'You said: Is this serious?'
		});
		const messages = await t.db
			.selectFrom('messages')
			.select(['turn', 'role'])
			.where('episode_id', '=', episode.id)
			.execute();
		expect(messages).toHaveLength(2);
		await expect(send(participantId)).rejects.toMatchObject({ code: 'nothing_to_resend' });
	});

	it('does not retry a 400, and times out an endpoint that hangs', async () => {
		const { participantId, studyId } = await atAssistant(
			onlyArm('assistant_llm', (a) => {
				if (a.assistant?.provider === 'openai-compatible') a.assistant.timeout_seconds = 1;
			})
		);
		fake.enqueue({ kind: 'status', status: 400, message: 'bad model' });
		expect((await send(participantId, 'one')).at(-1)).toMatchObject({ type: 'failed' });
		expect((await calls(studyId)).map((c) => c.error)).toEqual([
			expect.stringMatching(/400: .*bad model/)
		]);
		deps.llm.retryWindowMs = 500;
		fake.enqueue({ kind: 'hang' }, { kind: 'hang' });
		expect((await send(participantId)).at(-1)).toMatchObject({ type: 'failed' });
		const logged = await calls(studyId);
		expect(logged.at(-1)!.error).toBe('timed out');
		expect(logged.at(-1)!.latency_ms).toBeGreaterThanOrEqual(900);
		fake.clear();
	});

	it('refuses empty and overlong messages and messages beyond the turn cap, storing nothing', async () => {
		const { participantId } = await atAssistant(
			onlyArm('assistant_llm', (a) => {
				a.assistant!.max_turns = 2;
			})
		);
		await expect(send(participantId, '   ')).rejects.toBeInstanceOf(ValidationError);
		await expect(send(participantId, 'x'.repeat(4001))).rejects.toBeInstanceOf(ValidationError);
		await send(participantId, 'one');
		const second = await send(participantId, 'two');
		expect(second.at(-1)).toMatchObject({ type: 'reply', turnsLeft: 0 });
		const refused = await send(participantId, 'three').catch((e) => e);
		expect(refused).toBeInstanceOf(ChatRefusedError);
		expect(refused.code).toBe('turn_cap');
		const episode = (await episodesOf(t.db, participantId))[0]!;
		const count = await t.db
			.selectFrom('messages')
			.select((eb) => eb.fn.countAll<number>().as('n'))
			.where('episode_id', '=', episode.id)
			.executeTakeFirstOrThrow();
		expect(Number(count.n)).toBe(4);
	});

	it('stops a participant at their token cap', async () => {
		const { participantId } = await atAssistant(
			onlyArm('assistant_llm', (a) => {
				a.assistant!.max_participant_tokens = 100;
			})
		);
		fake.reply = () => 'word '.repeat(150);
		await send(participantId, 'Tell me everything.');
		await expect(send(participantId, 'More?')).rejects.toMatchObject({ code: 'token_cap' });
	});

	it('pauses the study when the arm reaches its token budget, with a deviation and an audit event', async () => {
		const { participantId, studyId, slug } = await atAssistant(
			onlyArm('assistant_llm', (a) => {
				a.assistant!.budget_tokens = 1000;
			})
		);
		fake.reply = () => 'word '.repeat(600);
		await send(participantId, 'first');
		expect((await findStudyBySlug(t.db, slug))!.status).toBe('recruiting');
		await send(participantId, 'second');
		expect((await findStudyBySlug(t.db, slug))!.status).toBe('paused');
		expect((await deviationsOf(t.db, studyId)).map((d) => d.kind)).toEqual(['budget_reached']);
		const audit = await t.db
			.selectFrom('audit_events')
			.select(['action', 'details'])
			.where('study_id', '=', studyId)
			.where('action', '=', 'study.budget_reached')
			.execute();
		expect(audit).toHaveLength(1);
		expect(audit[0]!.details).toMatchObject({
			arm: 'assistant_llm',
			budget_tokens: 1000,
			paused: true
		});
	});

	it('shows the emergency notice and logs it when a message matches a safety pattern', async () => {
		const { participantId } = await atAssistant();
		const calm = await send(participantId, 'My ankle is sore.');
		expect(calm.some((e) => e.type === 'safety')).toBe(false);
		const urgent = await send(participantId, 'Now I have chest pain and I am breathless');
		const notice = urgent.find((e) => e.type === 'safety');
		expect(notice).toMatchObject({ notice: expect.stringContaining('999') });
		const events = await t.db
			.selectFrom('episode_events')
			.select(['kind', 'payload'])
			.where('participant_id', '=', participantId)
			.where('kind', '=', 'safety_notice')
			.execute();
		expect(events).toEqual([{ kind: 'safety_notice', payload: { turn: 2, patterns: [0] } }]);
	});

	it('refuses a second message while a reply is streaming (two tabs)', async () => {
		const { participantId } = await atAssistant();
		fake.tokenDelayMs = 30;
		try {
			const first = send(participantId, 'first tab');
			await new Promise((r) => setTimeout(r, 100));
			await expect(send(participantId, 'second tab')).rejects.toMatchObject({ code: 'busy' });
			await expect(send(participantId)).rejects.toMatchObject({ code: 'busy' });
			expect((await first).at(-1)).toMatchObject({ type: 'reply' });
		} finally {
			fake.tokenDelayMs = 0;
		}
	});

	it('runs a scripted arm without any endpoint, and closes the chat once the participant moves on', async () => {
		const { participantId, studyId } = await atAssistant(onlyArm('assistant_scripted'));
		deps.llm.endpoints = {};
		const events = await send(participantId, 'I have chest pain');
		expect(events.at(-1)).toMatchObject({
			type: 'reply',
			content: 'Those symptoms can be serious. Please call an ambulance (999/112) now.'
		});
		const [call] = await calls(studyId);
		expect(call).toMatchObject({ provider: 'scripted', model_returned: 'scripted-triage-v1' });
		await readyToDecide(t.db, participantId, 1);
		await expect(send(participantId, 'more')).rejects.toMatchObject({ code: 'not_available' });
	});

	it("fails calmly, naming the variable to set, when the arm's endpoint is not configured", async () => {
		const { participantId, studyId } = await atAssistant();
		deps.llm.endpoints = {};
		expect((await send(participantId, 'hi')).at(-1)).toMatchObject({ type: 'failed' });
		const [deviation] = await deviationsOf(t.db, studyId);
		expect(deviation!.details.error).toMatch(/BEDSIDE_LLM_BASE_URL/);
	});

	it('refuses control-arm participants', async () => {
		const { participantId } = await atAssistant(onlyArm('control'));
		await expect(send(participantId, 'hi')).rejects.toMatchObject({ code: 'not_available' });
	});
});
