import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type BotBehaviour } from '../../src/bots/bot.ts';
import { runBots, type BotRunSummary } from '../../src/bots/run-bots.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { compareWithBots, storedParticipants } from '../helpers/bots.ts';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../helpers/fake-openai.ts';
import { freePort, startServer, type RunningServer } from '../helpers/server.ts';
import { exampleProtocol, newRecruitingStudy } from '../helpers/studies.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

// Faults, at small scale: bots through the real HTTP flow while an app instance is killed, the
// model endpoint fails, or the database goes away. After each, the server's data is compared
// with the bots' own record: every participant allocated once, every decision stored once, as
// made. PostgreSQL only (two processes on one database; a database that can go away).

const protocol = exampleProtocol();
const LEVELS = protocol.disposition_scale;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BEHAVIOUR: BotBehaviour = {
	...DEFAULT_BEHAVIOUR,
	uptake: 0.6,
	dropout: 0.05,
	reload: 0.15,
	doubleSubmit: 0.15,
	back: 0.1
};

let fake: FakeOpenAi;
beforeAll(async () => {
	fake = await startFakeOpenAi();
	fake.reply = () => `My advice: ${LEVELS[fake.requests.length % LEVELS.length]!.label}.`;
});
afterAll(() => fake?.close());

/** A fresh database with a recruiting study (control and the LLM arm). */
async function studyDatabase(slug: string) {
	const created = await createPgTestDatabase();
	const db = await openDatabase({ kind: 'pg', url: created.url, poolSize: 2 });
	await newRecruitingStudy(db.db, slug, (p: StudyProtocol) => {
		p.arms = p.arms.filter((a) => a.id !== 'assistant_scripted');
		p.randomization = {
			method: 'stratified_blocks',
			block_sizes: [2, 4],
			strata: ['chatbot_use']
		};
	});
	await db.close();
	return created;
}

/** Every decision stored once as made, no participant allocated twice, no bot lost. */
async function expectIntact(url: string, slug: string, summary: BotRunSummary) {
	expect(summary.errors).toEqual([]);
	expect(summary.outcomes.completed + summary.outcomes.dropped_out).toBe(summary.n);
	const db = await openDatabase({ kind: 'pg', url, poolSize: 2 });
	try {
		const stored = await storedParticipants(db.db, slug);
		expect(stored).toHaveLength(summary.n);
		expect(await compareWithBots(db.db, slug, summary, stored)).toEqual([]);
		const slots = await db.db
			.selectFrom('allocation_slots')
			.select('participant_id')
			.where('participant_id', 'is not', null)
			.execute();
		expect(new Set(slots.map((s) => s.participant_id)).size).toBe(slots.length);
		const allocated = stored.filter(
			(p) => !['consented', 'ineligible', 'declined'].includes(p.status)
		);
		expect(slots.length).toBe(allocated.length);
	} finally {
		await db.close();
	}
}

// Every bot comes from 127.0.0.1: the per-address enrolment limit (tested on its own) is off.
const env = () => ({
	BEDSIDE_LLM_BASE_URL: fake.url,
	BEDSIDE_LLM_RETRY_SECONDS: '1',
	BEDSIDE_ENROL_PER_ADDRESS: '0'
});

describe.runIf(databaseKinds().includes('pg'))('faults', () => {
	it('two app instances on one PostgreSQL, each bot alternating between them', async () => {
		const { url, drop } = await studyDatabase('two');
		const servers = await Promise.all([
			startServer({ databaseUrl: url, env: env() }),
			startServer({ databaseUrl: url, env: env() })
		]);
		try {
			const summary = await runBots({
				baseUrl: servers.map((s) => s.url),
				slug: 'two',
				n: 40,
				concurrency: 20,
				seed: 'two',
				protocol,
				behaviour: BEHAVIOUR
			});
			expect(summary.results.reduce((n, r) => n + r.retries, 0)).toBe(0);
			await expectIntact(url, 'two', summary);
		} finally {
			await Promise.all(servers.map((s) => s.stop('SIGKILL')));
			await drop();
		}
	});

	it('an instance killed (SIGKILL) mid-run and restarted: everyone resumes, nothing is lost', async () => {
		const { url, drop } = await studyDatabase('killed');
		const port = await freePort();
		let server: RunningServer = await startServer({ databaseUrl: url, port, env: env() });
		try {
			const running = runBots({
				baseUrl: server.url,
				slug: 'killed',
				n: 40,
				concurrency: 20,
				seed: 'killed',
				protocol,
				behaviour: BEHAVIOUR
			});
			await sleep(1500);
			await server.stop('SIGKILL');
			await sleep(500);
			server = await startServer({ databaseUrl: url, port, env: env() });
			const summary = await running;
			// The kill was felt (requests failed and were tried again), and survived.
			expect(summary.results.reduce((n, r) => n + r.retries, 0)).toBeGreaterThan(0);
			await expectIntact(url, 'killed', summary);
		} finally {
			await server.stop('SIGKILL');
			await drop();
		}
	});

	it('the model endpoint failing for a while: participants continue when it recovers, deviations recorded, no message lost', async () => {
		const { url, drop } = await studyDatabase('flaky');
		const server = await startServer({ databaseUrl: url, env: env() });
		try {
			fake.enqueue(
				...Array.from({ length: 30 }, (_, i) =>
					i % 3 === 0
						? ({ kind: 'status', status: 429 } as const)
						: i % 3 === 1
							? ({ kind: 'status', status: 500 } as const)
							: ({ kind: 'drop', afterTokens: 1 } as const)
				)
			);
			const summary = await runBots({
				baseUrl: server.url,
				slug: 'flaky',
				n: 20,
				concurrency: 10,
				seed: 'flaky',
				protocol,
				behaviour: { ...BEHAVIOUR, dropout: 0 }
			});
			fake.clear();
			expect(summary.results.reduce((n, r) => n + r.chatFailures, 0)).toBeGreaterThan(0);
			await expectIntact(url, 'flaky', summary);
			const db = await openDatabase({ kind: 'pg', url, poolSize: 2 });
			try {
				const deviations = await db.db.selectFrom('protocol_deviations').select('kind').execute();
				expect(deviations.length).toBeGreaterThan(0);
				// Every participant message was kept and, in the end, answered.
				const messages = await db.db
					.selectFrom('messages')
					.select(['episode_id', 'role', 'turn'])
					.execute();
				const users = messages.filter((m) => m.role === 'user');
				const answered = new Set(
					messages.filter((m) => m.role === 'assistant').map((m) => `${m.episode_id}:${m.turn}`)
				);
				expect(users.length).toBeGreaterThan(0);
				expect(users.filter((m) => !answered.has(`${m.episode_id}:${m.turn}`))).toEqual([]);
			} finally {
				await db.close();
			}
		} finally {
			fake.clear();
			await server.stop('SIGKILL');
			await drop();
		}
	});

	it('the database going away mid-run: 503 with Retry-After while it is gone, then it reconnects by itself', async () => {
		const { url, drop } = await studyDatabase('dbdown');
		const target = new URL(url);
		let proxy: TcpProxy | undefined;
		let server: RunningServer | undefined;
		try {
			proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
			const viaProxy = new URL(url);
			viaProxy.hostname = '127.0.0.1';
			viaProxy.port = String(proxy.port);
			server = await startServer({ databaseUrl: viaProxy.toString(), env: env() });
			const running = runBots({
				baseUrl: server.url,
				slug: 'dbdown',
				n: 30,
				concurrency: 15,
				seed: 'dbdown',
				protocol,
				behaviour: BEHAVIOUR
			});
			await sleep(1000);
			proxy.cut();
			await sleep(300);
			const page = await fetch(`${server.url}/s/dbdown`, { headers: { accept: 'text/html' } });
			expect(page.status).toBe(503);
			expect(page.headers.get('retry-after')).toBe('5');
			expect(await page.text()).toContain('briefly unavailable');
			const health = await fetch(`${server.url}/healthz`);
			expect(health.status).toBe(503);
			await sleep(2000);
			proxy.restore();
			const summary = await running;
			expect(summary.results.reduce((n, r) => n + r.retries, 0)).toBeGreaterThan(0);
			expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
			expect(server.process.exitCode).toBeNull(); // it never crashed
			await expectIntact(url, 'dbdown', summary);
		} finally {
			await server?.stop('SIGKILL');
			await proxy?.close();
			await drop();
		}
	});
});
