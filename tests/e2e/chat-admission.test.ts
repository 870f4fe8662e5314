import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpParticipant } from '../../src/bots/http-participant.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import {
	consent,
	finishReading,
	submitScreening
} from '../../src/lib/server/participants/journey.service.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { ELIGIBLE, newRecruitingStudy } from '../helpers/studies.ts';

// A burst on a server admitting one message at a time with no queue: most are refused as busy
// (503 with Retry-After, nothing stored) and sent again by the participant's page, as the bots
// do; in the end every message is stored once and answered. None is lost.

const N = 24;
let fake: FakeOpenAi;
let server: RunningServer;
let dataDir: string;
const tokens: string[] = [];

beforeAll(async () => {
	fake = await startFakeOpenAi();
	fake.reply = () => 'See a doctor today.';
	dataDir = tempDir('bedside-admission-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'burst', (p) => {
		p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
		p.randomization = { method: 'simple' };
	});
	for (let i = 0; i < N; i++) {
		const { participant, token } = await consent(db.db, 'burst', {
			agree: true,
			params: new URLSearchParams()
		});
		await submitScreening(db.db, 'burst', participant.id, ELIGIBLE);
		await finishReading(db.db, participant.id, 1);
		tokens.push(token!);
	}
	await db.close();
	server = await startServer({
		dataDir,
		env: {
			BEDSIDE_LLM_BASE_URL: fake.url,
			BEDSIDE_CHAT_CONCURRENCY: '1',
			BEDSIDE_CHAT_QUEUE: '0'
		}
	});
});
afterAll(async () => {
	await server?.stop('SIGKILL');
	await fake?.close();
});

describe('chat admission under a burst', () => {
	it('refuses what it cannot take as busy, and every message is stored once in the end', async () => {
		const people = tokens.map((token) => {
			const p = new HttpParticipant(server.url, 'burst');
			p.useSession(token);
			return p;
		});
		const replies = await Promise.all(people.map((p, i) => p.chat(1, `Burst message ${i}`)));
		expect(replies.map((r) => r.status)).toEqual(Array(N).fill(200));
		expect(replies.every((r) => r.reply === 'See a doctor today.')).toBe(true);
		const refused = people.reduce((n, p) => n + p.busyRetries, 0);
		expect(refused).toBeGreaterThan(0);
		// Without JavaScript (the page's chat form): refused as busy, the page comes back with the
		// text still in the box, and nothing was stored; sent again, it is taken.
		const post = (token: string, text: string) =>
			fetch(`${server.url}/s/burst?/chat`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: server.url,
					accept: 'text/html',
					'content-type': 'application/x-www-form-urlencoded',
					cookie: `bedside_participant=${token}`
				},
				body: new URLSearchParams({ episode: '1', text })
			});
		const answers = await Promise.all(tokens.map((t, i) => post(t, `Form message ${i}`)));
		const refusedForms = answers.flatMap((r, i) => (r.status === 503 ? [i] : []));
		expect(refusedForms.length).toBeGreaterThan(0);
		const page = await answers[refusedForms[0]!]!.text();
		expect(page).toContain(`Form message ${refusedForms[0]}</textarea>`);
		expect(page).toMatch(/Many people are writing/);
		for (const i of refusedForms)
			expect((await post(tokens[i]!, `Form message ${i}`)).status).toBe(303);
		await server.stop('SIGTERM');
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
		try {
			const stored = await db.db
				.selectFrom('messages')
				.select(['content', 'role'])
				.where('role', '=', 'user')
				.execute();
			expect(stored.map((m) => m.content).sort()).toEqual(
				Array.from({ length: N }, (_, i) => [`Burst message ${i}`, `Form message ${i}`])
					.flat()
					.sort()
			);
		} finally {
			await db.close();
		}
	});
});
