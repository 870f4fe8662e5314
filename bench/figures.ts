// The figures of bench/results.json under `figures`: one object per figure, with stable keys
// (docs/bots-load-faults.md lists them), so a script can compare runs or fail a check on `ok`.
// Every value is measured in the run that wrote the file; `baseline` is the reference measured in
// the same run (pgbench, the model called directly, R), or null where the target is absolute.
import type { benchAnalysis } from './analysis.ts';
import type { CoverageResults } from './coverage.ts';
import type { LoadResults } from './load.ts';
import type { benchMixed } from './mixed.ts';

export interface Target {
	op: '<' | '<=' | '>=' | 'within';
	value: number;
	/** For `within`: the interval's half-width around `value`. */
	tolerance?: number;
}

export interface Figure {
	value: number | null;
	unit: string;
	baseline: { value: number; unit: string; what: string } | null;
	target: Target;
	ok: boolean | null;
	what: string;
}

function meets(value: number | null, t: Target): boolean | null {
	if (value === null || !Number.isFinite(value)) return null;
	if (t.op === '<') return value < t.value;
	if (t.op === '<=') return value <= t.value;
	if (t.op === '>=') return value >= t.value;
	return Math.abs(value - t.value) <= (t.tolerance ?? 0);
}

function figure(
	what: string,
	value: number | null,
	unit: string,
	target: Target,
	baseline: Figure['baseline'] = null
): Figure {
	return { value, unit, baseline, target, ok: meets(value, target), what };
}

export function figuresOf(r: {
	analysis: Awaited<ReturnType<typeof benchAnalysis>> | null;
	coverage: CoverageResults | null;
	mixed: ReturnType<typeof benchMixed> | null;
	load: LoadResults | null;
}): Record<string, Figure> {
	const out: Record<string, Figure> = {};
	const a = r.analysis;
	if (a) {
		out.analysis_seconds = figure(
			`analyse ${a.episodes} episodes with ${a.bootstrap} bootstrap resamples`,
			a.total_seconds,
			's',
			{ op: '<', value: a.r ? Math.min(5, a.r.total_seconds) : 5 },
			a.r
				? { value: a.r.total_seconds, unit: 's', what: 'R (data.table) on the same estimands' }
				: null
		);
		out.analysis_peak_rss_mb = figure('peak memory of that analysis', a.peak_rss_mb, 'MB', {
			op: '<',
			value: 500
		});
	}
	if (r.mixed)
		out.mixed_model_seconds = figure(
			`mixed-effects logistic, ${r.mixed.participants} participants × 2 episodes`,
			r.mixed.seconds,
			's',
			{ op: '<', value: 10 }
		);
	if (r.coverage) {
		const cover = (family: string, shares: Record<string, number>) => {
			for (const [name, share] of Object.entries(shares)) {
				if (family === 'correlated' && !name.endsWith(', cluster')) continue;
				const key = `coverage_${family}_${name
					.replace(/[^a-z0-9]+/gi, '_')
					.replace(/_+$/, '')
					.toLowerCase()}`;
				out[key] = figure(`coverage of the 95% interval: ${name} (${family})`, share, 'fraction', {
					op: 'within',
					value: 0.95,
					tolerance: 0.02
				});
			}
		};
		cover('independent', r.coverage.independent);
		cover('correlated', r.coverage.correlated);
		cover('advice', r.coverage.advice ?? {});
	}
	const load = r.load;
	const e = load?.enrollment;
	if (e) {
		const pgbench = {
			value: e.pgbench_tps,
			unit: 'tps',
			what: `pgbench TPC-B, ${e.clients} clients`
		};
		out.allocation_service_vs_pgbench = figure(
			'allocations per second in the service layer ÷ pgbench tps',
			e.service.per_second / e.pgbench_tps,
			'ratio',
			{ op: '>=', value: 0.5 },
			pgbench
		);
		out.allocation_http_vs_pgbench = figure(
			'allocations per second through HTTP ÷ pgbench tps',
			e.http.per_second / e.pgbench_tps,
			'ratio',
			{ op: '>=', value: 0.25 },
			pgbench
		);
	}
	const c = load?.chat;
	const level = c?.levels.find((l) => l.participants === 500);
	if (c && level) {
		out.chat_overhead_first_token_p99_ms = figure(
			'platform overhead on the first token, p99, 500 participants in conversation',
			level.overhead_ms.first_token.p99,
			'ms',
			{ op: '<', value: 50 },
			{ value: level.direct.first_token_ms.p99, unit: 'ms', what: 'the model called directly, p99' }
		);
		out.participant_page_p99_ms = figure(
			'participant page (HTML) p99 with 500 in conversation',
			level.pages_ms.p99,
			'ms',
			{ op: '<', value: 100 }
		);
		out.participant_page_data_p99_ms = figure(
			'participant page data p99 with 500 in conversation',
			level.page_data_ms.p99,
			'ms',
			{ op: '<', value: 100 }
		);
		if (c.burst)
			out.chat_burst_overhead_first_token_p99_ms = figure(
				`burst of ${c.burst.participants} messages in the same instant: overhead on the first token, p99`,
				c.burst.overhead_first_token_ms.p99,
				'ms',
				{ op: '<', value: 1000 },
				{
					value: c.burst.direct_first_token_ms.p99,
					unit: 'ms',
					what: 'the model called directly, p99'
				}
			);
		if ('lost_messages' in c)
			out.chat_lost_messages = figure(
				'messages sent and not stored',
				c.lost_messages as number,
				'messages',
				{
					op: '<=',
					value: 0
				}
			);
	}
	const doubles = [
		e?.service.double_allocations,
		e?.http.double_allocations,
		load?.bots?.double_allocations
	].filter((x): x is number => typeof x === 'number');
	if (doubles.length > 0)
		out.double_allocations = figure(
			'participants allocated twice (enrollment and bots runs)',
			doubles.reduce((s, x) => s + x, 0),
			'participants',
			{ op: '<=', value: 0 }
		);
	const x = load?.export;
	if (x) {
		out.export_throughput_mb_per_s = figure(
			`export of ${x.messages} messages: throughput`,
			x.mb_per_second,
			'MB/s',
			{ op: '>=', value: 50 }
		);
		out.export_peak_rss_mb = figure(
			`export of ${x.messages} messages: peak memory`,
			x.peak_rss_mb,
			'MB',
			{
				op: '<',
				value: 300
			}
		);
	}
	return out;
}
