import { adviceCoverage, coverage, CORRELATED } from '../tests/helpers/coverage.ts';

// Coverage of every interval the analysis reports: simulated studies with known truth through the
// whole `analyze`, each interval's share of studies whose truth it covered. Two designs: one
// episode per participant, where the plain intervals are the right ones (target 95 ± 2%), and
// three correlated episodes per participant, where the participant-cluster variants must hold 95 ±
// 2% and the plain ones are shown for contrast. 150 participants per arm; benchmark runs
// unbalanced across scenarios (30, 12 and 4).

export interface CoverageResults {
	studies: number;
	people_per_arm: number;
	seconds: number;
	/** Interval name → share of studies covered, per design. */
	independent: Record<string, number>;
	correlated: Record<string, number>;
	/** Judge–advisor studies: RAIR, RSR and the CACE (300 people, 2 episodes each). */
	advice: Record<string, number>;
}

export function benchCoverage(studies = 1000): CoverageResults {
	const started = performance.now();
	const share = (covered: Record<string, number>, keep: (name: string) => boolean) =>
		Object.fromEntries(
			Object.entries(covered)
				.filter(([name]) => keep(name))
				.map(([name, n]) => [name, n / studies])
		);
	const independent = coverage(
		{ ...CORRELATED, peoplePerArm: 150, episodes: 1 },
		studies,
		'bench-coverage-independent'
	);
	const correlated = coverage(
		{ ...CORRELATED, peoplePerArm: 150 },
		studies,
		'bench-coverage-correlated'
	);
	const advice = adviceCoverage(studies, 'bench-coverage-advice');
	return {
		studies,
		people_per_arm: 150,
		advice: share(advice.covered, () => true),
		seconds: (performance.now() - started) / 1000,
		independent: share(independent.covered, (name) => name.endsWith(', plain')),
		correlated: share(correlated.covered, () => true)
	};
}
