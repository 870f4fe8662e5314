import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/lib/chat-events.ts';
import { sendChatMessage } from '../../src/lib/server/assistant/chat.service.ts';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';
import {
	consent,
	finishReading,
	submitScreening
} from '../../src/lib/server/participants/journey.service.ts';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { ELIGIBLE, newRecruitingStudy } from '../helpers/studies.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

// The database goes away while the model is still answering (a restart, a failover): the reply
// that was generated is stored once the database is back, and the call is recorded as finished,
// so the participant is neither shown an error for a reply that exists nor kept waiting ("busy")
// for the in-flight window.

describe.runIf(databaseKinds().includes('pg'))('a database outage in the middle of a reply', () => {
	let fake: FakeOpenAi;
	let proxy: TcpProxy;
	let app: Database;
	let drop = async () => {};

	beforeAll(async () => {
		fake = await startFakeOpenAi();
		fake.tokenDelayMs = 60;
		fake.reply = () => 'It sounds like a sprain: rest it, and see your GP if it gets worse.';
		const created = await createPgTestDatabase();
		drop = created.drop;
		const target = new URL(created.url);
		proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
		const viaProxy = new URL(created.url);
		viaProxy.port = String(proxy.port);
		app = await openDatabase({ kind: 'pg', url: viaProxy.toString(), poolSize: 2 });
	});
	afterAll(async () => {
		await app?.close();
		await proxy?.close();
		await fake?.close();
		await drop();
	});

	it('stores the generated reply and finishes the call once the database answers again', async () => {
		await newRecruitingStudy(app.db, 'outage', (p) => {
			p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
			p.randomization = { method: 'simple' };
		});
		const { participant } = await consent(app.db, 'outage', {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(app.db, 'outage', participant.id, ELIGIBLE);
		await finishReading(app.db, participant.id, 1);

		const events: ChatEvent[] = [];
		let cut = false;
		const sending = sendChatMessage(
			app.db,
			{
				llm: {
					endpoints: { default: { baseUrl: fake.url, apiKey: undefined } },
					retryWindowMs: 5_000
				}
			},
			{ participantId: participant.id, episode: 1, text: 'I twisted my ankle.' },
			(e) => {
				events.push(e);
				// The first streamed token: the message and the claim are stored; cut for 1.5 s.
				if (e.type === 'delta' && !cut) {
					cut = true;
					proxy.cut();
					setTimeout(() => proxy.restore(), 1_500);
				}
			}
		);
		await sending;
		expect(cut).toBe(true);
		expect(events.at(-1)).toMatchObject({
			type: 'reply',
			content: 'It sounds like a sprain: rest it, and see your GP if it gets worse.'
		});
		const stored = await app.db
			.selectFrom('messages')
			.innerJoin('episodes', 'episodes.id', 'messages.episode_id')
			.select(['messages.role', 'messages.content'])
			.where('episodes.participant_id', '=', participant.id)
			.orderBy('messages.id')
			.execute();
		expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
		const calls = await app.db
			.selectFrom('assistant_calls')
			.select(['finish_reason', 'error', 'latency_ms'])
			.execute();
		expect(calls).toEqual([{ finish_reason: 'stop', error: null, latency_ms: expect.any(Number) }]);
	});
});
