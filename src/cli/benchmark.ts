import { loadConfig } from '../lib/server/config.ts';
import { runsOfStudy } from '../lib/server/assistant/benchmark.repository.ts';
import {
	BENCHMARK_MODES,
	runBenchmark,
	type BenchmarkMode,
	type BenchmarkProgress
} from '../lib/server/assistant/benchmark.service.ts';
import { getProtocol } from '../lib/server/studies/studies.service.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside benchmark run <slug> --arm ID [--mode MODE] [--repeats N] [--run ID]
                              [--rate N] [--patient-model M] [--patient-endpoint E] [--max-turns N]
       bedside benchmark list <slug>

  run   the LLM-alone condition: the arm's pinned model on every scenario of the preregistered
        protocol, each answer coded by the rule coder and stored as a recommendation (source
        benchmark). MODE is physician (default: the physician-written prompt), patient-first-turn
        (each first message participants wrote) or simulated (an LLM plays the patient from the
        participant text until the assistant recommends a disposition, at most --max-turns, 6).
        --repeats: times each item is run (default 20). --run: resume a run (the id is printed
        when it starts); items already stored are skipped. --rate: at most N calls a minute.
        Endpoints come from BEDSIDE_LLM_BASE_URL / BEDSIDE_LLM_<NAME>_BASE_URL (+ _API_KEY).
  list  the study's runs and how far each got`;

function progressBar({ total, done, failed }: BenchmarkProgress): string {
	const width = 30;
	const filled = total === 0 ? width : Math.round((done / total) * width);
	return `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${failed ? ` (${failed} failed)` : ''}`;
}

export async function runBenchmarkCommand(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside benchmark ${command ?? ''}`.trim(), USAGE, async () => {
		if (command === 'list') {
			const { positionals } = parseOptions(rest, {});
			if (positionals.length !== 1) throw new UsageError('give one study slug');
			return withDatabase(async ({ db }) => {
				const { study } = await getProtocol(db, positionals[0]!);
				const runs = await runsOfStudy(db, study.id);
				if (runs.length === 0) console.log(`${study.slug}: no benchmark runs yet`);
				for (const r of runs)
					console.log(
						`${r.id}  arm ${r.armKey}  ${r.mode}  ×${r.repeats}  ${r.stored} stored  ${r.finishedAt ? `finished ${r.finishedAt.toISOString()}` : 'unfinished'}`
					);
				return 0;
			});
		}
		if (command !== 'run')
			throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		const { positionals, values } = parseOptions(rest, {
			arm: { type: 'string' },
			mode: { type: 'string', default: 'physician' },
			repeats: { type: 'string', default: '20' },
			run: { type: 'string' },
			rate: { type: 'string' },
			'patient-model': { type: 'string' },
			'patient-endpoint': { type: 'string' },
			'max-turns': { type: 'string' }
		});
		if (positionals.length !== 1) throw new UsageError('give one study slug');
		if (!values.arm) throw new UsageError('--arm is required');
		if (!BENCHMARK_MODES.includes(values.mode as BenchmarkMode))
			throw new UsageError(`--mode must be one of ${BENCHMARK_MODES.join(', ')}`);
		const whole = (name: string, v: string | undefined, min: number, max: number) => {
			if (v === undefined) return undefined;
			const n = Number(v);
			if (!Number.isInteger(n) || n < min || n > max)
				throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${v}")`);
			return n;
		};
		const repeats = whole('repeats', values.repeats, 1, 1000)!;
		const rate = whole('rate', values.rate, 1, 100_000);
		const maxTurns = whole('max-turns', values['max-turns'], 1, 50);
		if (values.run !== undefined && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(values.run))
			throw new UsageError('--run must be lowercase letters, digits, - or _ (at most 63)');
		const llm = loadConfig().llm;
		return withDatabase(async ({ db }) => {
			const report = await runBenchmark(db, {
				slug: positionals[0]!,
				armKey: values.arm!,
				mode: values.mode as BenchmarkMode,
				repeats,
				runId: values.run,
				ratePerMinute: rate,
				maxTurns,
				patient: { model: values['patient-model'], endpoint: values['patient-endpoint'] },
				llm,
				onProgress: (p) => process.stderr.write(progressBar(p))
			});
			process.stderr.write('\n');
			console.log(
				`run ${report.runId}${report.resumed ? ' (resumed)' : ''}: ${report.done}/${report.total} stored` +
					`${report.skipped ? `, ${report.skipped} already stored before` : ''}, ${report.failed} failed`
			);
			if (report.empty.length > 0)
				console.log(
					`  nothing to run yet for: ${report.empty.join(', ')} (no participant has written in them)`
				);
			for (const f of report.failures.slice(0, 20))
				console.log(`  failed ${f.scenario}/${f.item} repeat ${f.repeat}: ${f.error}`);
			if (report.failures.length > 20) console.log(`  … and ${report.failures.length - 20} more`);
			if (!report.finished)
				console.log(
					`  resume with: bedside benchmark run ${positionals[0]} --arm ${values.arm} --mode ${values.mode} --repeats ${repeats} --run ${report.runId}`
				);
			return report.failed > 0 ? 1 : 0;
		});
	});
}
