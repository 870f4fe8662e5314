import seedrandom from 'seedrandom';
import { mixedLogistic } from '../analysis/stats/mixed.ts';

// The mixed-effects logistic model at the size the issue names: 10,000 participants × 2 episodes
// on 8 scenarios, three arms, a participant effect (seeded). Wall time of the whole fit (Laplace
// optimization and the Hessian for the standard errors).

export function benchMixed(people = 10_000) {
	const random = seedrandom('bench-mixed');
	const scenarios = 8;
	const participant = new Int32Array(2 * people);
	const scenario = new Int32Array(2 * people);
	const X: number[][] = [];
	const y: (0 | 1)[] = [];
	const scenarioEffect = Array.from({ length: scenarios }, () => random() - 0.5);
	for (let g = 0; g < people; g++) {
		const arm = g % 3;
		const u = (random() + random() + random() - 1.5) * 1.2;
		for (let e = 0; e < 2; e++) {
			const i = 2 * g + e;
			participant[i] = g;
			const s = Math.floor(random() * scenarios);
			scenario[i] = s;
			X.push([1, arm === 1 ? 1 : 0, arm === 2 ? 1 : 0]);
			const eta = -0.2 + 0.4 * (arm === 1 ? 1 : 0) + u + scenarioEffect[s]!;
			y.push(random() < 1 / (1 + Math.exp(-eta)) ? 1 : 0);
		}
	}
	const started = performance.now();
	const fit = mixedLogistic({ X, y, participant, scenario, participants: people, scenarios });
	return {
		participants: people,
		episodes: 2 * people,
		scenarios,
		seconds: (performance.now() - started) / 1000,
		evaluations: fit.evaluations,
		converged: fit.converged
	};
}
