import seedrandom from 'seedrandom';
import { percentileInterval } from './stats/resample.ts';
import { z } from 'zod';
import {
	sequentialDecomposition,
	shapleyDecomposition,
	subsetKey,
	type Stage
} from './decompose.ts';

// `bedside decompose FILE`: stages (and optionally every subset, for Shapley) from JSON or YAML.

const stage = z
	.strictObject({
		name: z.string().min(1),
		p: z.number().min(0).max(1).optional(),
		successes: z.number().int().min(0).optional(),
		n: z.number().int().min(1).optional(),
		relaxes: z.string().min(1).optional(),
		type: z.enum(['task', 'outcome']).optional()
	})
	.refine(
		(s) => s.p !== undefined || (s.successes !== undefined && s.n !== undefined),
		'give p, or successes and n'
	)
	.refine(
		(s) => s.successes === undefined || s.n === undefined || s.successes <= s.n,
		'successes must be ≤ n'
	);

export const decompositionInput = z.strictObject({
	stages: z.array(stage).min(2),
	subsets: z
		.array(z.strictObject({ relaxed: z.array(z.string()), p: z.number().min(0).max(1) }))
		.optional()
});

export type DecompositionInput = z.output<typeof decompositionInput>;

/** Percentile bootstrap of each step's drop, resampling every stage's successes binomially. */
function bootstrapDrops(
	stages: { successes: number; n: number }[],
	reps: number,
	seed: number
): [number, number][] {
	const random = seedrandom(String(seed));
	const draws: number[][] = stages.slice(1).map(() => []);
	for (let r = 0; r < reps; r++) {
		const ps = stages.map(({ successes, n }) => {
			const p = successes / n;
			let x = 0;
			for (let i = 0; i < n; i++) if (random() < p) x++;
			return x / n;
		});
		for (let i = 1; i < ps.length; i++) draws[i - 1]!.push(ps[i - 1]! - ps[i]!);
	}
	return draws.map((d) => percentileInterval(d, reps)!);
}

/** The decomposition block of the analysis JSON (docs/analysis-estimands.md §7). */
export function decompose(input: DecompositionInput, options: { seed: number; bootstrap: number }) {
	const stages: Stage[] = input.stages.map((s) => ({
		name: s.name,
		p: s.p ?? s.successes! / s.n!,
		relaxes: s.relaxes,
		type: s.type
	}));
	const { steps, taskTotal, outcomeTotal } = sequentialDecomposition(stages);
	const counted = input.stages.every((s) => s.successes !== undefined && s.n !== undefined);
	const intervals = counted
		? bootstrapDrops(
				input.stages as { successes: number; n: number }[],
				options.bootstrap,
				options.seed
			)
		: null;
	let shapley = null;
	if (input.subsets) {
		const assumptions = steps.map((s) => s.assumption);
		const accuracy: Record<string, number> = { '': stages[0]!.p };
		for (const s of input.subsets) accuracy[subsetKey(s.relaxed)] = s.p;
		shapley = shapleyDecomposition(assumptions, accuracy);
	}
	return {
		stages: stages.map((s) => ({
			name: s.name,
			p: s.p,
			relaxes: s.relaxes ?? null,
			type: s.type ?? null
		})),
		steps: steps.map((s, i) => ({
			...s,
			...(intervals && { ci: intervals[i], method: 'percentile-bootstrap' })
		})),
		task_total: taskTotal,
		outcome_total: outcomeTotal,
		shapley,
		...(intervals && { bootstrap: options.bootstrap, seed: options.seed })
	};
}

export function decompositionMarkdown(result: ReturnType<typeof decompose>): string {
	const pct = (x: number) => `${(x * 100).toFixed(1)}`;
	const lines = [
		'| stage | accuracy | assumption relaxed | type | drop (points) |',
		'|---|---|---|---|---|'
	];
	result.stages.forEach((s, i) => {
		const step = i === 0 ? null : result.steps[i - 1]!;
		const ci = step && 'ci' in step && step.ci ? ` [${pct(step.ci[0])}, ${pct(step.ci[1])}]` : '';
		lines.push(
			`| ${s.name} | ${pct(s.p)}% | ${s.relaxes ?? '—'} | ${s.type ?? '—'} | ${step ? `${pct(step.drop)}${ci}` : '—'} |`
		);
	});
	lines.push(
		'',
		`Task assumptions: ${pct(result.task_total)} points; outcome assumptions: ${pct(result.outcome_total)} points.`
	);
	if (result.shapley) {
		lines.push('', '| assumption | Shapley share (points) | range over orders |', '|---|---|---|');
		for (const s of result.shapley)
			lines.push(`| ${s.assumption} | ${pct(s.shapley)} | ${pct(s.min)} to ${pct(s.max)} |`);
	}
	return lines.join('\n');
}
