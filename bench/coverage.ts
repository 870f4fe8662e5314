import { coverage, CORRELATED } from '../tests/helpers/coverage.ts';

// Coverage of every interval the analysis reports on studies with correlated episodes: 1,000
// simulated studies through the whole `analyze`, each interval's share of studies whose truth it
// covered (target 95 ± 2% for the participant-cluster variants; the plain ones are shown to
// undercover where they should). 150 participants per arm, 3 episodes each.

export interface CoverageResults {
	studies: number;
	people_per_arm: number;
	episodes_per_participant: number;
	seconds: number;
	coverage: Record<string, number>;
}

export function benchCoverage(studies = 1000): CoverageResults {
	const design = { ...CORRELATED, peoplePerArm: 150 };
	const started = performance.now();
	const { covered } = coverage(design, studies, 'bench-coverage');
	return {
		studies,
		people_per_arm: design.peoplePerArm,
		episodes_per_participant: design.episodes,
		seconds: (performance.now() - started) / 1000,
		coverage: Object.fromEntries(Object.entries(covered).map(([k, v]) => [k, v / studies]))
	};
}
