// `npm run bench`: measures and prints one table; writes bench/results.json and bench/results.md.
// Not part of `npm test`. `npm run bench -- analysis coverage mixed enrollment chat bots export` runs only those parts.
import fs from 'node:fs';
import os from 'node:os';
import { figuresOf } from './figures.ts';
import { benchAnalysis } from './analysis.ts';
import { benchCoverage } from './coverage.ts';
import { benchMixed } from './mixed.ts';
import { benchLoad, type LoadResults } from './load.ts';

const parts = process.argv.slice(2);
const want = (part: string) => parts.length === 0 || parts.includes(part);

// A partial run replaces only its own figures: the others are kept from the last results.json.
const resultsFile = new URL('./results.json', import.meta.url);
const previous = (
	fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {}
) as {
	analysis?: Awaited<ReturnType<typeof benchAnalysis>> | null;
	coverage?: ReturnType<typeof benchCoverage> | null;
	mixed?: ReturnType<typeof benchMixed> | null;
	load?: LoadResults | null;
};
const analysis = want('analysis') ? await benchAnalysis() : (previous.analysis ?? null);
const coverage = want('coverage') ? benchCoverage() : (previous.coverage ?? null);
const mixed = want('mixed') ? benchMixed() : (previous.mixed ?? null);
const measuredLoad: LoadResults | null =
	want('enrollment') || want('chat') || want('bots') || want('export')
		? await benchLoad({
				enrollment: want('enrollment'),
				chat: want('chat'),
				bots: want('bots'),
				export: want('export')
			})
		: null;
const load = (
	measuredLoad || previous.load
		? {
				...previous.load,
				...Object.fromEntries(
					Object.entries(measuredLoad ?? {}).filter(([, v]) => v !== null && v !== undefined)
				)
			}
		: null
) as LoadResults | null;

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const rows: [string, string, string, string][] = [];
if (analysis) {
	rows.push(
		[
			`analyse ${analysis.episodes.toLocaleString('en')} episodes, ${analysis.bootstrap} bootstrap resamples`,
			`${analysis.total_seconds.toFixed(2)} s (read ${analysis.read_seconds.toFixed(2)} s, analyse ${analysis.analyze_seconds.toFixed(2)} s)`,
			analysis.r
				? `R, data.table::fread and the same estimands (bench/analysis.R): ${analysis.r.total_seconds.toFixed(2)} s (read ${analysis.r.read_seconds.toFixed(2)} s, analyse ${analysis.r.analyze_seconds.toFixed(2)} s)`
				: 'R: Rscript not on this machine',
			'< 5 s, and no slower than R'
		],
		['peak memory (RSS) of that run', `${f0(analysis.peak_rss_mb)} MB`, '—', '< 500 MB']
	);
}
if (mixed) {
	rows.push([
		`mixed-effects logistic (Laplace, as glmer nAGQ = 1), ${mixed.participants.toLocaleString('en')} participants × 2 episodes, ${mixed.scenarios} scenarios`,
		`${mixed.seconds.toFixed(2)} s (${mixed.evaluations} deviance evaluations${mixed.converged ? '' : ', not converged'})`,
		'—',
		'< 10 s'
	]);
}
if (coverage) {
	const design = `${coverage.studies} simulated studies, ${coverage.people_per_arm} people per arm`;
	for (const [name, share] of Object.entries(coverage.independent))
		rows.push([
			`coverage of the 95% interval: ${name.replace(', plain', '')}, one episode per participant (${design})`,
			`${(100 * share).toFixed(1)}%`,
			'—',
			'95 ± 2%'
		]);
	for (const [name, share] of Object.entries(coverage.advice ?? {}))
		rows.push([
			`coverage of the 95% interval: ${name}, judge–advisor studies (${coverage.studies} simulated, 300 people × 2 episodes, 70% of the LLM arm using the assistant)`,
			`${(100 * share).toFixed(1)}%`,
			'—',
			'95 ± 2%'
		]);
	for (const [name, share] of Object.entries(coverage.correlated))
		rows.push([
			`coverage of the 95% interval: ${name}, three correlated episodes per participant (${design})`,
			`${(100 * share).toFixed(1)}%`,
			'—',
			name.endsWith(', cluster') ? '95 ± 2%' : 'plain, shown for contrast'
		]);
}
if (load?.enrollment) {
	const e = load.enrollment;
	const pct = (x: number) => `${f0((100 * x) / e.pgbench_tps)}% of pgbench`;
	rows.push(
		[
			`allocation (screening → randomized), service layer, ${e.clients} clients, ${e.service.allocations} people`,
			`${f0(e.service.per_second)} allocations/s (${pct(e.service.per_second)}); ${e.service.double_allocations} double allocations`,
			`pgbench TPC-B-like, ${e.clients} clients: ${f0(e.pgbench_tps)} tps`,
			'≥ 50% of pgbench'
		],
		[
			`allocation through HTTP (the screening form), ${e.clients} clients, ${e.http.allocations} people`,
			`${f0(e.http.per_second)} allocations/s (${pct(e.http.per_second)}); ${e.http.double_allocations} double allocations`,
			'the same pgbench figure',
			'≥ 25% of pgbench'
		]
	);
}
if (load?.chat) {
	const c = load.chat;
	// Older results.json files lack it.
	if (c.cost) {
		const cost = c.cost;
		for (const [what, x] of [
			['a first chat message', cost.first_message],
			['a later chat message', cost.later_message],
			['a participant page (HTML)', cost.page],
			['its page data', cost.page_data]
		] as const)
			rows.push([
				`CPU for ${what}, one at a time (${cost.requests_each} of them): server, PostgreSQL`,
				`${f1(x.server_cpu_ms)} ms, ${f1(x.postgres_cpu_ms)} ms (${f1(x.wall_ms)} ms each)`,
				'—',
				'—'
			]);
	}
	for (const level of c.levels) {
		const o = level.overhead_ms;
		const who = `chat, ${level.participants} participants in conversation (${level.messages} messages, ${c.think_seconds[0]}–${c.think_seconds[1]} s between)`;
		rows.push(
			[
				`${who}: overhead on first token (p50 / p99)`,
				`${f1(o.first_token.p50)} / ${f1(o.first_token.p99)} ms${level.failed ? `; ${level.failed} failed` : ''}`,
				`model direct, same schedule: ${f1(level.direct.first_token_ms.p50)} / ${f1(level.direct.first_token_ms.p99)} ms`,
				level.participants === 500 ? 'p99 < 50 ms' : '—'
			],
			[
				`${who}: overhead per message (p50 / p99)`,
				`${f1(o.message.p50)} / ${f1(o.message.p99)} ms`,
				`model direct: ${f1(level.direct.message_ms.p50)} / ${f1(level.direct.message_ms.p99)} ms`,
				level.participants === 500 ? 'p99 < 50 ms' : '—'
			],
			[
				`participant pages at ${level.participants} in conversation (p50 / p99): page, page data`,
				`${f1(level.pages_ms.p50)} / ${f1(level.pages_ms.p99)} ms; ${f1(level.page_data_ms.p50)} / ${f1(level.page_data_ms.p99)} ms`,
				'—',
				'—'
			]
		);
		// Older results.json files lack it.
		if (level.client_loop_delay_ms)
			rows.push([
				`the benchmark's own clients at ${level.participants}: event-loop delay (p99 / max)`,
				`${f1(level.client_loop_delay_ms.p99)} / ${f1(level.client_loop_delay_ms.max)} ms`,
				'—',
				'a latency above this is not the clients’'
			]);
	}
	if (c.burst) {
		const b = c.burst;
		rows.push([
			`burst: ${b.participants} messages sent in the same instant, overhead on first token (p50 / p99)`,
			`${f1(b.overhead_first_token_ms.p50)} / ${f1(b.overhead_first_token_ms.p99)} ms`,
			`model direct: ${f1(b.direct_first_token_ms.p50)} / ${f1(b.direct_first_token_ms.p99)} ms`,
			'—'
		]);
	}
	const top = c.levels.at(-1);
	if (top)
		rows.push([
			`server memory (RSS): idle, and peak with ${top.participants} participants in conversation`,
			`${f0(c.idle_rss_mb)} MB, ${f0(top.server_peak_rss_mb)} MB`,
			'—',
			'—'
		]);
}
if (load?.bots) {
	const b = load.bots;
	const l = b.latency;
	rows.push([
		`${b.n} bots through the whole flow, ${b.concurrency} at a time (bedside bots, default behaviour)`,
		`${f1(b.seconds)} s, ${b.requests} requests; ${Object.entries(b.outcomes)
			.filter(([, n]) => n > 0)
			.map(([o, n]) => `${o} ${n}`)
			.join(
				', '
			)}; page data p50/p99 ${f0(l.data.p50 ?? NaN)}/${f0(l.data.p99 ?? NaN)} ms, form posts ${f0(l.action.p50 ?? NaN)}/${f0(l.action.p99 ?? NaN)} ms; ${b.double_allocations} double allocations`,
		'—',
		'no error, nobody allocated twice'
	]);
}
if (load?.export) {
	for (const x of [load.export.smaller, load.export]) {
		rows.push([
			`export of ${x.episodes.toLocaleString('en')} episodes and ${x.messages.toLocaleString('en')} messages`,
			`${f1(x.mb)} MB in ${f1(x.seconds)} s = ${f1(x.mb_per_second)} MB/s; peak RSS ${f0(x.peak_rss_mb)} MB`,
			'—',
			'RSS < 300 MB, flat with size'
		]);
	}
}

const table = [
	'| benchmark | measured | baseline (same run) | target |',
	'|---|---|---|---|',
	...rows.map((r) => `| ${r.join(' | ')} |`)
].join('\n');
const results = {
	measured_at: new Date().toISOString(),
	node: process.version,
	cpus: os.availableParallelism(),
	figures: figuresOf({ analysis, coverage, mixed, load }),
	analysis,
	coverage,
	mixed,
	load
};
fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
fs.writeFileSync(new URL('./results.md', import.meta.url), `${table}\n`);
console.log(table);
const missed = Object.entries(results.figures).filter(([, f]) => f.ok === false);
console.log(
	missed.length === 0
		? `\nEvery figure meets its target (${Object.keys(results.figures).length} figures).`
		: `\nBelow target: ${missed.map(([k, f]) => `${k} = ${f.value?.toFixed(3)} ${f.unit}`).join('; ')}`
);
