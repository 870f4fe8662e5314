// The load benchmark of issue #8: enrollment against pgbench, chat under load against the model
// called directly, participant pages, export throughput and memory, server memory. Every figure is
// measured in this run, on this machine, beside its baseline. Needs PostgreSQL (BENCH_DATABASE_URL,
// else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test) and pgbench; each part works in
// a database of its own, dropped at the end.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import seedrandom from 'seedrandom';
import { DEFAULT_BEHAVIOUR } from '../src/bots/bot.ts';
import { HttpParticipant } from '../src/bots/http-participant.ts';
import { quantile, runBots } from '../src/bots/run-bots.ts';
import { createDatabase, dropDatabase } from '../src/lib/server/db/admin.ts';
import { openDatabase, type Database } from '../src/lib/server/db/index.ts';
import { migrateToLatest } from '../src/lib/server/db/migrate.ts';
import {
	consent,
	finishReading,
	submitScreening
} from '../src/lib/server/participants/journey.service.ts';
import type { StudyProtocol } from '../src/lib/server/protocols/study-schema.ts';
import { startServer } from '../tests/helpers/server.ts';
import { ELIGIBLE, exampleProtocol, newRecruitingStudy } from '../tests/helpers/studies.ts';

const ADMIN_URL =
	process.env.BENCH_DATABASE_URL ||
	process.env.DATABASE_URL ||
	'postgres://postgres@127.0.0.1:5432/test';
const CLIENTS = 20;
/** Extra node options for the measured server (e.g. --cpu-prof), when profiling the benchmark. */
const NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

const created: string[] = [];
async function freshDatabase(label: string): Promise<string> {
	const name = `bedside_bench_${label}_${randomBytes(3).toString('hex')}`;
	created.push(name);
	return createDatabase(ADMIN_URL, name);
}

export async function migratedStudy(
	label: string,
	change: (p: StudyProtocol) => void = () => {}
): Promise<{ url: string; database: Database }> {
	const url = await freshDatabase(label);
	const database = await openDatabase({ kind: 'pg', url, poolSize: CLIENTS + 2 });
	await migrateToLatest(database.db);
	await newRecruitingStudy(database.db, 'bench', change);
	return { url, database };
}

/** Runs `work(i)` for i < n on `concurrency` workers; returns the seconds taken. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>) {
	let next = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			for (let i = next++; i < n; i = next++) await work(i);
		})
	);
	return (performance.now() - started) / 1000;
}

/** n consented participants, made through the service layer. */
async function consentMany(database: Database, n: number) {
	const made: { id: string; token: string }[] = new Array(n);
	await pool(n, CLIENTS, async (i) => {
		const { participant, token } = await consent(database.db, 'bench', {
			agree: true,
			params: new URLSearchParams()
		});
		made[i] = { id: participant.id, token: token! };
	});
	return made;
}

async function doubleAllocations(database: Database): Promise<number> {
	const row = await sql<{ taken: number; people: number }>`
		select count(*)::int as taken, count(distinct participant_id)::int as people
		from allocation_slots where participant_id is not null`.execute(database.db);
	return row.rows[0]!.taken - row.rows[0]!.people;
}

/** The resident memory of a server: its process and its workers (on PostgreSQL, one per core). */
const rssMb = (pid: number): number => {
	let status: string;
	try {
		status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	} catch {
		return 0; // a worker that just exited
	}
	const own = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
	const children = fs
		.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
		.split(/\s+/)
		.filter(Boolean)
		.map(Number);
	return own + children.reduce((sum, child) => sum + rssMb(child), 0);
};

/** CPU seconds (user + system) a process and its children have used so far. */
const cpuSeconds = (pid: number): number => {
	let stat: string;
	try {
		stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	} catch {
		return 0;
	}
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	const own = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
	const children = fs
		.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
		.split(/\s+/)
		.filter(Boolean)
		.map(Number);
	return own + children.reduce((sum, child) => sum + cpuSeconds(child), 0);
};
/** Linux's USER_HZ, the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS = 100;

/** CPU seconds each PostgreSQL process on this machine has used so far, by pid. */
const postgresCpu = (): Map<string, number> => {
	const used = new Map<string, number>();
	for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			if (!stat.includes('(postgres)')) continue;
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			used.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
		} catch {
			// a process that just ended
		}
	}
	return used;
};

/** PostgreSQL's CPU seconds since `before` (a process that ended meanwhile is not counted). */
const postgresCpuSince = (before: Map<string, number>): number =>
	[...postgresCpu()].reduce((sum, [pid, now]) => sum + now - (before.get(pid) ?? 0), 0);

// --- Enrollment -----------------------------------------------------------------------------

async function enrollment() {
	// Baseline: pgbench's TPC-B-like transactions on the same server, same client count.
	const pgbenchUrl = await freshDatabase('pgbench');
	execFileSync('pgbench', ['-i', '-s', '1', '-q', pgbenchUrl], { stdio: 'ignore' });
	const out = execFileSync(
		'pgbench',
		['-c', String(CLIENTS), '-j', '2', '-T', '10', '-n', pgbenchUrl],
		{ encoding: 'utf8' }
	);
	const pgbenchTps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)![1]);

	// The service layer: people who have consented are screened, which allocates them; timed is
	// the allocation step, CLIENTS at a time (the consents are made first, untimed).
	const service = await migratedStudy('enroll_service');
	const n = 3000;
	const consented = await consentMany(service.database, n);
	const serviceSeconds = await pool(n, CLIENTS, async (i) => {
		await submitScreening(service.database.db, 'bench', consented[i]!.id, {
			...ELIGIBLE,
			chatbot_use: i % 2 ? 'often' : 'rarely'
		});
	});
	const serviceDoubles = await doubleAllocations(service.database);
	await service.database.close();

	// Through HTTP: the screening form posted to a running server by people who consented there.
	const http = await migratedStudy('enroll_http');
	const server = await startServer({
		databaseUrl: http.url,
		env: { DATABASE_POOL_SIZE: String(CLIENTS), BEDSIDE_ENROL_PER_ADDRESS: '0' },
		nodeArgs: NODE_ARGS
	});
	const httpN = 2000;
	const people = Array.from({ length: httpN }, () => new HttpParticipant(server.url, 'bench'));
	await pool(httpN, CLIENTS, async (i) => {
		if ((await people[i]!.act('consent', { entry: '', agree: 'yes' })) !== 303)
			throw new Error('consent refused');
	});
	const httpSeconds = await pool(httpN, CLIENTS, async (i) => {
		const status = await people[i]!.act('screening', {
			...ELIGIBLE,
			chatbot_use: i % 2 ? 'often' : 'rarely'
		});
		if (status !== 303) throw new Error(`screening answered ${status}`);
	});
	const httpDoubles = await doubleAllocations(http.database);
	await server.stop();
	await http.database.close();
	return {
		clients: CLIENTS,
		pgbench_tps: pgbenchTps,
		service: { allocations: n, per_second: n / serviceSeconds, double_allocations: serviceDoubles },
		http: { allocations: httpN, per_second: httpN / httpSeconds, double_allocations: httpDoubles }
	};
}

// --- Chat under load, pages, server memory ---------------------------------------------------

async function startFakeModel(tokenDelayMs: number): Promise<{ url: string; stop: () => void }> {
	const child = spawn(
		process.execPath,
		[
			'--import',
			'tsx',
			fileURLToPath(new URL('./fake-llm.ts', import.meta.url)),
			String(tokenDelayMs)
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] }
	);
	const url = await new Promise<string>((resolve) =>
		child.stdout!.once('data', (chunk) => resolve(String(chunk).trim()))
	);
	return { url, stop: () => child.kill('SIGTERM') };
}

interface StreamTiming {
	firstTokenMs: number;
	totalMs: number;
}

/** The baseline: the fake model called directly, streaming, as the platform calls it. */
async function callModelDirectly(url: string): Promise<StreamTiming> {
	const started = performance.now();
	const response = await fetch(`${url}/chat/completions`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			model: 'bench',
			stream: true,
			messages: [{ role: 'user', content: 'What should I do?' }]
		})
	});
	// The first token is the first chunk with text in it, as the platform counts it (a model's
	// opening chunk carries the role and an empty content: that is not a token).
	let first: number | null = null;
	const decoder = new TextDecoder();
	let buffer = '';
	for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
		if (first !== null) continue;
		buffer += decoder.decode(chunk, { stream: true });
		let end: number;
		while (first === null && (end = buffer.indexOf('\n\n')) >= 0) {
			const data = buffer.slice(0, end).replace(/^data: /, '');
			buffer = buffer.slice(end + 2);
			if (data === '[DONE]') continue;
			const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
			if (parsed.choices?.[0]?.delta?.content) first = performance.now() - started;
		}
	}
	return { firstTokenMs: first ?? NaN, totalMs: performance.now() - started };
}

const summary = (xs: number[]) => {
	const sorted = [...xs].sort((a, b) => a - b);
	return { p50: quantile(sorted, 0.5)!, p99: quantile(sorted, 0.99)! };
};

const MESSAGES_EACH = 3;
/** Participants in conversation at each level; the burst runs at 500. BENCH_CHAT_LEVELS=500 when profiling. */
const CHAT_LEVELS = (process.env.BENCH_CHAT_LEVELS ?? '100,300,500')
	.split(',')
	.filter(Boolean)
	.map(Number);
/** Seconds a participant reads and types between messages: uniform 5–15 s, seeded per person. */
const thinkTimes = (n: number) => {
	const random = seedrandom('bench-think');
	return Array.from({ length: n }, () =>
		Array.from({ length: MESSAGES_EACH }, () => 5_000 + 10_000 * random())
	);
};

/**
 * n participants in conversation at once: each thinks, sends a message, reads the streamed reply,
 * MESSAGES_EACH times. The same schedule drives the baseline and the platform.
 */
async function conversations(
	n: number,
	send: (person: number, message: number) => Promise<StreamTiming>
): Promise<StreamTiming[]> {
	const think = thinkTimes(n);
	const all = await Promise.all(
		Array.from({ length: n }, async (_, person) => {
			const mine: StreamTiming[] = [];
			for (let m = 0; m < MESSAGES_EACH; m++) {
				await new Promise((r) => setTimeout(r, think[person]![m]!));
				mine.push(await send(person, m));
			}
			return mine;
		})
	);
	return all.flat();
}

/** n participants at the assistant step (prepared through the service layer), with open pages. */
async function peopleAtTheAssistant(database: Database, serverUrl: string, n: number) {
	const prepared = await consentMany(database, n);
	await pool(n, CLIENTS, async (i) => {
		await submitScreening(database.db, 'bench', prepared[i]!.id, {
			...ELIGIBLE,
			chatbot_use: i % 2 ? 'often' : 'rarely'
		});
		await finishReading(database.db, prepared[i]!.id, 1);
	});
	const people = prepared.map(({ token }) => {
		const p = new HttpParticipant(serverUrl, 'bench');
		p.useSession(token);
		return p;
	});
	await pool(n, CLIENTS, async (i) => void (await people[i]!.openPage()));
	return people;
}

/** One load level: the conversations with the model directly, then through Bedside. */
async function chatLevel(people: HttpParticipant[], modelUrl: string, serverPid: number) {
	const n = people.length;
	// Baseline: the same conversations with the model directly.
	const direct = await conversations(n, () => callModelDirectly(modelUrl));
	// Through Bedside, while the participants also reload their page and its data after each reply
	// (the page latency under this load).
	let peakRss = rssMb(serverPid);
	const sampler = setInterval(() => {
		peakRss = Math.max(peakRss, rssMb(serverPid));
	}, 100);
	const failures: string[] = [];
	// The benchmark's own clients share the machine: how late their event loop ran says how much of
	// a latency is theirs rather than the server's.
	// Pages count from here: the ones opened while the participants were being prepared are not
	// pages "with n in conversation".
	for (const p of people) p.timings.length = 0;
	const clientLoop = monitorEventLoopDelay({ resolution: 10 });
	clientLoop.enable();
	const platform = await conversations(n, async (person, m) => {
		const p = people[person]!;
		const reply = await p.chat(1, `Message ${m + 1}: what should I do?`);
		if (reply.reply === null) failures.push(reply.failed ?? `status ${reply.status}`);
		await p.openPage();
		await p.view();
		return { firstTokenMs: reply.firstTokenMs ?? NaN, totalMs: reply.totalMs };
	});
	clearInterval(sampler);
	clientLoop.disable();
	const timings = people.flatMap((p) => p.timings);
	const platformFirst = summary(platform.map((r) => r.firstTokenMs));
	const platformTotal = summary(platform.map((r) => r.totalMs));
	const directFirst = summary(direct.map((d) => d.firstTokenMs));
	const directTotal = summary(direct.map((d) => d.totalMs));
	return {
		participants: n,
		messages: platform.length,
		failed: failures.length,
		direct: { first_token_ms: directFirst, message_ms: directTotal },
		platform: { first_token_ms: platformFirst, message_ms: platformTotal },
		overhead_ms: {
			first_token: {
				p50: platformFirst.p50 - directFirst.p50,
				p99: platformFirst.p99 - directFirst.p99
			},
			message: {
				p50: platformTotal.p50 - directTotal.p50,
				p99: platformTotal.p99 - directTotal.p99
			}
		},
		pages_ms: summary(timings.filter((t) => t.kind === 'page').map((t) => t.ms)),
		page_data_ms: summary(timings.filter((t) => t.kind === 'data').map((t) => t.ms)),
		server_peak_rss_mb: peakRss,
		client_loop_delay_ms: {
			p99: clientLoop.percentile(99) / 1e6,
			max: clientLoop.max / 1e6
		}
	};
}

/**
 * What one chat message and one page cost the server and PostgreSQL in CPU, measured one request at
 * a time (nothing else running): the figure that decides how many the two cores can carry.
 */
async function chatCost(people: HttpParticipant[], serverPid: number) {
	const measure = async (work: (p: HttpParticipant) => Promise<unknown>) => {
		const server = cpuSeconds(serverPid);
		const postgres = postgresCpu();
		const started = performance.now();
		for (const p of people) await work(p);
		return {
			server_cpu_ms: (1000 * (cpuSeconds(serverPid) - server)) / people.length,
			postgres_cpu_ms: (1000 * postgresCpuSince(postgres)) / people.length,
			wall_ms: (performance.now() - started) / people.length
		};
	};
	const firstMessage = await measure((p) => p.chat(1, 'What should I do?'));
	const laterMessage = await measure((p) => p.chat(1, 'And what else?'));
	const page = await measure((p) => p.openPage());
	const pageData = await measure((p) => p.view());
	return {
		requests_each: people.length,
		first_message: firstMessage,
		later_message: laterMessage,
		page,
		page_data: pageData
	};
}

/** A burst: everyone sends a message in the same instant (worst case, not a pace people keep). */
async function chatBurst(people: HttpParticipant[], modelUrl: string) {
	const burstDirect = await Promise.all(people.map(() => callModelDirectly(modelUrl)));
	const burstPlatform = await Promise.all(people.map((p) => p.chat(1, 'One more thing?')));
	const first = summary(burstPlatform.map((r) => r.firstTokenMs ?? NaN));
	const directFirst = summary(burstDirect.map((d) => d.firstTokenMs));
	return {
		participants: people.length,
		platform_first_token_ms: first,
		direct_first_token_ms: directFirst,
		overhead_first_token_ms: { p50: first.p50 - directFirst.p50, p99: first.p99 - directFirst.p99 }
	};
}

async function chatUnderLoad() {
	const model = await startFakeModel(20);
	const { url, database } = await migratedStudy('chat', (p) => {
		p.arms = p.arms.filter((a) => a.id === 'assistant_llm');
	});
	// 500 bots from one address: the per-address enrolment limit is off for the benchmark.
	const server = await startServer({
		databaseUrl: url,
		env: {
			BEDSIDE_LLM_BASE_URL: model.url,
			DATABASE_POOL_SIZE: '20',
			...(process.env.BENCH_WORKERS ? { BEDSIDE_WORKERS: process.env.BENCH_WORKERS } : {}),
			BEDSIDE_ENROL_PER_ADDRESS: '0'
		},
		nodeArgs: NODE_ARGS
	});
	const idleRss = rssMb(server.process.pid!);
	const levels = [];
	let burst = null;
	let cost = null;
	let sent = 0;
	let stored = 0;
	try {
		const alone = await peopleAtTheAssistant(database, server.url, 100);
		cost = await chatCost(alone, server.process.pid!);
		sent += 2 * alone.length;
		for (const n of CHAT_LEVELS) {
			const people = await peopleAtTheAssistant(database, server.url, n);
			const level = await chatLevel(people, model.url, server.process.pid!);
			levels.push(level);
			sent += level.messages;
			if (n === 500) {
				burst = await chatBurst(people, model.url);
				sent += burst.participants;
			}
		}
		// Every message a participant sent is stored, whatever the load (a refused one is sent again).
		const row = await database.db
			.selectFrom('messages')
			.select((eb) => eb.fn.countAll<string>().as('n'))
			.where('role', '=', 'user')
			.executeTakeFirstOrThrow();
		stored = Number(row.n);
	} finally {
		await server.stop();
		model.stop();
		await database.close();
	}
	return {
		token_delay_ms: 20,
		reply_tokens: 26,
		messages_each: MESSAGES_EACH,
		think_seconds: [5, 15],
		idle_rss_mb: idleRss,
		cost,
		levels,
		burst,
		messages_sent: sent,
		lost_messages: sent - stored
	};
}

// --- Export ----------------------------------------------------------------------------------

/** A study of `people` × 2 episodes with 10 messages each, written by SQL (seeded, no randomness). */
export async function seedExportStudy(database: Database, people: number) {
	const study = await database.db
		.selectFrom('studies')
		.innerJoin('preregistrations', 'preregistrations.study_id', 'studies.id')
		.select(['studies.id', 'preregistrations.protocol_version_id'])
		.where('studies.slug', '=', 'bench')
		.executeTakeFirstOrThrow();
	// Seeded data written by SQL: 50,000 completed participants × 2 episodes, a decision each, and
	// 10 messages (5 turns) per episode: 100,000 episodes and 1,000,000 messages.
	await sql`
		insert into participants (study_id, protocol_version_id, status, step, stratum, consented_at,
			allocated_at, completed_at, screening, completion_code)
		select ${study.id}, ${study.protocol_version_id}, 'completed', 'complete', 'chatbot_use=often',
			now(), now(), now(), '{"adult":"yes","medical_training":"none","chatbot_use":"often"}',
			'BENCH'
		from generate_series(1, ${people})`.execute(database.db);
	await sql`
		insert into allocation_slots (study_id, stratum, position, arm_id, method, algorithm_version,
			participant_id, taken_at)
		select ${study.id}, 'chatbot_use=often', row_number() over (order by p.id),
			(select id from arms where study_id = ${study.id} order by key limit 1),
			'bench', 'bench', p.id, now()
		from participants p where p.study_id = ${study.id}`.execute(database.db);
	await sql`
		insert into episodes (participant_id, episode, scenario_id, step, submitted_at)
		select p.id, e.n, (select id from scenarios where study_id = ${study.id} order by key limit 1),
			'done', now()
		from participants p cross join generate_series(1, 2) as e(n)
		where p.study_id = ${study.id}`.execute(database.db);
	await sql`
		insert into decisions (episode_id, disposition, conditions_text)
		select e.id, 'emergency_department', '{appendicitis}' from episodes e`.execute(database.db);
	await sql`
		insert into messages (episode_id, turn, role, content)
		select e.id, t.n, r.role,
			case when r.role = 'user' then 'My stomach hurts on the right side since this morning, what should I do?'
			else 'It could be appendicitis. Please go to the emergency department now; do not eat or drink until you are seen.' end
		from episodes e cross join generate_series(1, 5) as t(n) cross join (values ('user'), ('assistant')) as r(role)`.execute(
		database.db
	);
	await sql`analyze`.execute(database.db);
}

/** Seeds a study of `people` participants, exports it in a child process, and measures. */
async function exportOf(people: number) {
	const { url, database } = await migratedStudy(`export_${people}`);
	await seedExportStudy(database, people);
	await database.close();
	const out = execFileSync(
		process.execPath,
		['--import', 'tsx', fileURLToPath(new URL('./export-child.ts', import.meta.url)), url, 'bench'],
		{ encoding: 'utf8', maxBuffer: 1 << 20 }
	);
	const measured = JSON.parse(out.trim().split('\n').at(-1)!);
	return {
		episodes: measured.rows['episodes.csv'] as number,
		messages: measured.rows['messages.csv'] as number,
		mb: measured.bytes / 1e6,
		seconds: measured.seconds as number,
		mb_per_second: measured.bytes / 1e6 / measured.seconds,
		peak_rss_mb: measured.peak_rss_mb as number
	};
}

/** The export at a tenth of the size and at full size: memory should not grow with the study. */
async function exportThroughput() {
	const small = await exportOf(5_000);
	const full = await exportOf(50_000);
	return { ...full, smaller: small };
}

/** 500 bots through the whole flow (bedside bots), 100 at a time, on one server. */
async function botsThroughTheFlow() {
	const model = await startFakeModel(20);
	const { url, database } = await migratedStudy('bots');
	// 500 bots from one address: the per-address enrolment limit is off for the benchmark.
	const server = await startServer({
		databaseUrl: url,
		env: {
			BEDSIDE_LLM_BASE_URL: model.url,
			DATABASE_POOL_SIZE: '20',
			...(process.env.BENCH_WORKERS ? { BEDSIDE_WORKERS: process.env.BENCH_WORKERS } : {}),
			BEDSIDE_ENROL_PER_ADDRESS: '0'
		},
		nodeArgs: NODE_ARGS
	});
	try {
		const run = await runBots({
			baseUrl: server.url,
			slug: 'bench',
			n: 500,
			concurrency: 100,
			seed: 'bench',
			protocol: exampleProtocol(),
			behaviour: DEFAULT_BEHAVIOUR
		});
		return {
			n: run.n,
			concurrency: run.concurrency,
			seconds: run.seconds,
			outcomes: run.outcomes,
			requests: Object.values(run.latency).reduce((n, l) => n + l.count, 0),
			latency: run.latency,
			double_allocations: await doubleAllocations(database),
			errors: run.errors.slice(0, 5)
		};
	} finally {
		await server.stop();
		model.stop();
		await database.close();
	}
}

export async function benchLoad(parts: {
	enrollment: boolean;
	chat: boolean;
	bots: boolean;
	export: boolean;
}) {
	try {
		const enroll = parts.enrollment ? await enrollment() : null;
		const chat = parts.chat ? await chatUnderLoad() : null;
		const bots = parts.bots ? await botsThroughTheFlow() : null;
		const exported = parts.export ? await exportThroughput() : null;
		return { enrollment: enroll, chat, bots, export: exported };
	} finally {
		for (const name of created) await dropDatabase(ADMIN_URL, name).catch(() => {});
	}
}

export type LoadResults = Awaited<ReturnType<typeof benchLoad>>;
