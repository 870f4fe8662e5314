// The staged decomposition of the evaluation–deployment gap (docs/analysis-estimands.md §4).

export interface Stage {
	name: string;
	p: number;
	/** The assumption relaxed when moving to this stage from the previous one (none for the first). */
	relaxes?: string;
	type?: 'task' | 'outcome';
}

export interface Step {
	assumption: string;
	type: 'task' | 'outcome';
	drop: number;
}

/**
 * Sequential attribution along the given path (Raman et al., the paper this project starts from,
 * §4.2): each relaxed assumption is charged the accuracy drop of its step.
 */
export function sequentialDecomposition(stages: Stage[]): {
	steps: Step[];
	taskTotal: number;
	outcomeTotal: number;
} {
	const steps = stages.slice(1).map((stage, i) => {
		if (!stage.relaxes || !stage.type)
			throw new Error(`stage "${stage.name}" must name the assumption it relaxes and its type`);
		return { assumption: stage.relaxes, type: stage.type, drop: stages[i]!.p - stage.p };
	});
	const total = (type: 'task' | 'outcome') =>
		steps.filter((s) => s.type === type).reduce((sum, s) => sum + s.drop, 0);
	return { steps, taskTotal: total('task'), outcomeTotal: total('outcome') };
}

/** Accuracy for each subset of relaxed assumptions, keyed by the sorted assumption names joined with '+' ('' for none). */
export type SubsetAccuracies = Record<string, number>;

export const subsetKey = (assumptions: string[]): string => [...assumptions].sort().join('+');

function permutations<T>(items: T[]): T[][] {
	if (items.length <= 1) return [items];
	return items.flatMap((item, i) =>
		permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
	);
}

/**
 * Shapley attribution (Shapley 1953) of the total drop to each assumption: its drop averaged over
 * every order of relaxing the assumptions, which removes the path dependence of the sequential
 * split. Also reports each assumption's smallest and largest drop over the orders.
 */
export function shapleyDecomposition(
	assumptions: string[],
	accuracy: SubsetAccuracies
): { assumption: string; shapley: number; min: number; max: number }[] {
	for (const subset of permutations(assumptions).flatMap((order) =>
		order.map((_, i) => order.slice(0, i + 1))
	)) {
		if (!(subsetKey(subset) in accuracy))
			throw new Error(`Shapley attribution needs the accuracy with ${subset.join(', ')} relaxed`);
	}
	if (!('' in accuracy))
		throw new Error('Shapley attribution needs the accuracy with nothing relaxed');
	const orders = permutations(assumptions);
	return assumptions.map((a) => {
		const drops = orders.map((order) => {
			const before = order.slice(0, order.indexOf(a));
			return accuracy[subsetKey(before)]! - accuracy[subsetKey([...before, a])]!;
		});
		return {
			assumption: a,
			shapley: drops.reduce((s, d) => s + d, 0) / drops.length,
			min: Math.min(...drops),
			max: Math.max(...drops)
		};
	});
}
