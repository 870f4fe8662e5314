import { analyze } from '../../analysis/analyze.ts';
import type { AnalysisResult } from '../../analysis/result.ts';
import { htmlReport, markdownReport } from '../../analysis/report.ts';
import { CLI_ACTOR } from '../lib/server/actor.ts';
import { analyzeStudy } from '../lib/server/analysis/study-analysis.service.ts';
import { EvidenceError, writeStudyEvidence } from '../lib/server/cards/evidence.service.ts';
import { ExportError, readExportDir } from '../../analysis/io/export-reader.ts';
import { readExportZip } from '../../analysis/io/export-zip.ts';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
	decompose,
	decompositionInput,
	decompositionMarkdown
} from '../../analysis/decomposition-input.ts';
import {
	detectableProportion,
	powerTwoProportions,
	sampleSizeTwoProportions
} from '../../analysis/stats/power.ts';
import { designPower } from '../../analysis/stats/design-power.ts';
import { problemsFromZod, ValidationError } from '../lib/server/validation/problems.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase, writeOut } from './shared.ts';

const POWER_USAGE = `usage: bedside power --p1 P1 [--p2 P2] [--power 0.8 | --n N] [--alpha 0.05] [--ratio 1]
                    [--episodes M --icc RHO [--simulations 2000] [--seed 1]]

  --p1 and --p2 with --power: participants per group (group 2 has ratio times as many).
  --p1 and --p2 with --n:     the power with n in group 1.
  --p1 with --n and --power:  the smallest detectable p2 (and the difference).
  --p1, --p2 and --n with --episodes and --icc: the power of the actual design, where each
      participant decides on M scenarios whose outcomes correlate by RHO within a participant:
      by the design effect 1 + (M − 1)·RHO, and by seeded simulation of the study.`;

function probability(name: string, value: string | undefined, open = true): number | undefined {
	if (value === undefined) return undefined;
	const x = Number(value);
	if (!Number.isFinite(x) || (open ? x <= 0 || x >= 1 : x < 0 || x > 1))
		throw new UsageError(`--${name} must be a number between 0 and 1 (got "${value}")`);
	return x;
}

export async function runPower(args: string[]): Promise<number> {
	return runSubcommand('bedside power', POWER_USAGE, async () => {
		const { values, positionals } = parseOptions(args, {
			p1: { type: 'string' },
			p2: { type: 'string' },
			power: { type: 'string' },
			n: { type: 'string' },
			alpha: { type: 'string', default: '0.05' },
			ratio: { type: 'string', default: '1' },
			episodes: { type: 'string' },
			icc: { type: 'string' },
			simulations: { type: 'string', default: '2000' },
			seed: { type: 'string', default: '1' }
		});
		if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
		if (values.episodes !== undefined || values.icc !== undefined)
			return designPowerCommand(values);
		const p1 = probability('p1', values.p1);
		if (p1 === undefined) throw new UsageError('give --p1');
		const p2 = probability('p2', values.p2);
		const alpha = probability('alpha', values.alpha)!;
		const ratio = Number(values.ratio);
		if (!(ratio > 0)) throw new UsageError('--ratio must be a positive number');
		const n = values.n === undefined ? undefined : Number(values.n);
		if (n !== undefined && !(Number.isFinite(n) && n >= 2))
			throw new UsageError('--n must be a number ≥ 2');
		const power = probability(
			'power',
			values.power ?? (p2 === undefined || n === undefined ? '0.8' : undefined)
		);
		const head = `two-sided test of two proportions, alpha ${alpha}, allocation ratio 1:${ratio} (normal approximation, as R's power.prop.test)`;
		if (p2 !== undefined && n === undefined) {
			const n1 = sampleSizeTwoProportions(p1, p2, power!, alpha, ratio);
			console.log(
				`${head}\np1 = ${p1}, p2 = ${p2}, power = ${power}\nn per group = ${n1.toFixed(2)} → ${Math.ceil(n1)} in group 1, ${Math.ceil(ratio * n1)} in group 2`
			);
		} else if (p2 !== undefined && n !== undefined) {
			console.log(
				`${head}\np1 = ${p1}, p2 = ${p2}, n = ${n} in group 1\npower = ${powerTwoProportions(p1, p2, n, alpha, ratio).toFixed(4)}`
			);
		} else if (n !== undefined && power !== undefined) {
			const detectable = detectableProportion(p1, n, power, alpha, ratio);
			console.log(
				`${head}\np1 = ${p1}, n = ${n} in group 1, power = ${power}\nsmallest detectable p2 = ${detectable.toFixed(4)} (difference ${(detectable - p1).toFixed(4)})`
			);
		} else {
			throw new UsageError('give --p2 (with --power or --n), or --n with --power');
		}
		return 0;
	});
}

/** `bedside power … --episodes M --icc RHO`: the design's power, analytic and simulated. */
function designPowerCommand(values: Record<string, string | boolean | undefined>): number {
	const text = (name: string) => values[name] as string | undefined;
	const p1 = probability('p1', text('p1'));
	const p2 = probability('p2', text('p2'));
	const n = Number(text('n'));
	if (p1 === undefined || p2 === undefined || text('n') === undefined)
		throw new UsageError('the design power needs --p1, --p2 and --n (participants in group 1)');
	if (!(Number.isInteger(n) && n >= 2)) throw new UsageError('--n must be a whole number ≥ 2');
	const m = Number(text('episodes') ?? '1');
	if (!(Number.isInteger(m) && m >= 1))
		throw new UsageError('--episodes must be a whole number ≥ 1');
	const icc = probability('icc', text('icc') ?? '0', false)!;
	const ratio = Number(text('ratio'));
	if (!(ratio > 0)) throw new UsageError('--ratio must be a positive number');
	const simulations = Number(text('simulations'));
	if (!(Number.isInteger(simulations) && simulations >= 0 && simulations <= 100_000))
		throw new UsageError('--simulations must be a whole number from 0 to 100000');
	const seed = Number(text('seed'));
	if (!(Number.isInteger(seed) && seed >= 0))
		throw new UsageError('--seed must be a whole number ≥ 0');
	const alpha = probability('alpha', text('alpha'))!;
	const result = designPower(
		{
			participantsControl: n,
			ratio,
			episodesPerParticipant: m,
			icc,
			scenarios: [{ weight: 1, control: p1, treatment: p2 }],
			alpha
		},
		simulations,
		seed
	);
	const lines = [
		`the design: ${n} participants in group 1 and ${Math.round(ratio * n)} in group 2, ${m} episode(s) each, ICC ${icc}, p1 = ${p1}, p2 = ${p2}, alpha ${alpha}`,
		`design effect 1 + (${m} − 1)·${icc} = ${result.design_effect.toFixed(4)}; effective episodes per group ${result.analytic.effective_per_arm.map((x) => x.toFixed(1)).join(' and ')}`,
		`power by the design effect (normal approximation, as power.prop.test) = ${result.analytic.power.toFixed(4)}`
	];
	if (result.simulated)
		lines.push(
			`power by simulation (${result.simulated.simulations} studies, seed ${seed}) = ${result.simulated.power.toFixed(4)} ± ${result.simulated.monte_carlo_se.toFixed(4)} (Monte Carlo SE)`
		);
	console.log(lines.join('\n'));
	return 0;
}

const DECOMPOSE_USAGE = `usage: bedside decompose <stages.json|stages.yaml> [--format json|md] [--seed N] [--bootstrap N] [--out FILE]

  {"stages": [{"name", "p" | "successes" + "n", "relaxes", "type": "task|outcome"}],
   "subsets": [{"relaxed": ["…"], "p"}]}   (subsets for every combination: Shapley attribution)`;

export async function runDecompose(args: string[]): Promise<number> {
	return runSubcommand('bedside decompose', DECOMPOSE_USAGE, async () => {
		const { values, positionals } = parseOptions(args, {
			format: { type: 'string', default: 'json' },
			seed: { type: 'string', default: '20261122' },
			bootstrap: { type: 'string', default: '2000' },
			out: { type: 'string' }
		});
		if (positionals.length !== 1) throw new UsageError('give one stages file');
		if (values.format !== 'json' && values.format !== 'md')
			throw new UsageError('--format is json or md');
		const seed = Number(values.seed);
		const bootstrap = Number(values.bootstrap);
		if (!Number.isInteger(seed) || seed < 0)
			throw new UsageError('--seed must be a whole number ≥ 0');
		if (!Number.isInteger(bootstrap) || bootstrap < 100)
			throw new UsageError('--bootstrap must be a whole number ≥ 100');
		const file = positionals[0]!;
		let raw: unknown;
		try {
			const text = fs.readFileSync(file, 'utf8');
			raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
		} catch (error) {
			throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
		}
		const parsed = decompositionInput.safeParse(raw);
		if (!parsed.success) throw new ValidationError(problemsFromZod(parsed.error.issues), file);
		let result;
		try {
			result = decompose(parsed.data, { seed, bootstrap });
		} catch (error) {
			throw new ValidationError([{ path: 'stages', message: (error as Error).message }], file);
		}
		writeOut(
			values.format === 'json'
				? JSON.stringify({ format: 'bedside-decomposition/1', decomposition: result }, null, 2)
				: decompositionMarkdown(result),
			values.out
		);
		return 0;
	});
}

const ANALYZE_USAGE = `usage: bedside analyze <export-dir|export.zip|study-slug> [--format json|md|html] [--seed N] [--population intention_to_treat|per_protocol] [--out FILE] [--write-evidence]

  Analyses a study export (docs/export-format.md), or with a slug the study in the database
  (exported without free text, then read the same way), and writes the analysis as JSON
  (docs/analysis-estimands.md §7), a Markdown report, or a self-contained HTML report with charts.
  The seed and the primary population default to the analysis plan's; overriding either is
  reported as a departure from the plan. --write-evidence (with a slug) writes the estimates
  back as evidence on the card assumptions the study tests.`;

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function runAnalyze(args: string[]): Promise<number> {
	return runSubcommand('bedside analyze', ANALYZE_USAGE, async () => {
		const { values, positionals } = parseOptions(args, {
			format: { type: 'string', default: 'json' },
			seed: { type: 'string' },
			population: { type: 'string' },
			out: { type: 'string' },
			'write-evidence': { type: 'boolean', default: false }
		});
		if (positionals.length !== 1) throw new UsageError('give one export folder, zip or study slug');
		const format = values.format;
		if (format !== 'json' && format !== 'md' && format !== 'html')
			throw new UsageError('--format is json, md or html');
		const seed = values.seed === undefined ? undefined : Number(values.seed);
		if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0))
			throw new UsageError('--seed must be a whole number ≥ 0');
		const population = values.population;
		if (
			population !== undefined &&
			population !== 'intention_to_treat' &&
			population !== 'per_protocol'
		)
			throw new UsageError('--population is intention_to_treat or per_protocol');
		const source = positionals[0]!;
		const render = (result: AnalysisResult, title: string) =>
			format === 'md'
				? markdownReport(result, title)
				: format === 'html'
					? htmlReport(result, title)
					: `${JSON.stringify(result, null, 2)}\n`;
		const exists = fs.existsSync(source);
		if (!exists && SLUG.test(source)) {
			return withDatabase(async ({ db }) => {
				try {
					const { result, title } = await analyzeStudy(db, source, CLI_ACTOR, { seed, population });
					writeOut(render(result, title), values.out);
					if (values['write-evidence']) {
						const w = await writeStudyEvidence(db, source, result, CLI_ACTOR);
						console.error(
							`bedside analyze: wrote ${w.written} estimate(s) on ${w.assumptions.join(', ')} (analysis SHA-256 ${w.analysisSha256})`
						);
					}
					return 0;
				} catch (error) {
					if (error instanceof ExportError || error instanceof EvidenceError) {
						console.error(`bedside analyze: ${source}: ${error.message}`);
						return 1;
					}
					throw error;
				}
			});
		}
		if (values['write-evidence'])
			throw new UsageError('--write-evidence needs a study slug (the evidence goes to its cards)');
		const isZip = source.endsWith('.zip') && exists && fs.statSync(source).isFile();
		if (!isZip && (!exists || !fs.statSync(source).isDirectory())) {
			throw new UsageError(
				`${source} is neither an export folder, a .zip of one (make one with bedside export) nor a study slug`
			);
		}
		let data;
		try {
			data = isZip ? readExportZip(source) : readExportDir(source);
		} catch (error) {
			if (error instanceof ExportError) {
				console.error(`bedside analyze: ${source}: ${error.message}`);
				return 1;
			}
			throw error;
		}
		// A file with a header and no rows is readable, but there is nothing to estimate: say so.
		if (!data.episodes.some((e) => e.submitted))
			console.error(
				`bedside analyze: warning: ${source} has no submitted decisions (episodes.csv has no rows to analyse)`
			);
		writeOut(
			render(analyze(data, { seed, population }), data.study.title || data.study.slug),
			values.out
		);
		return 0;
	});
}
