import seedrandom from 'seedrandom';
import { pnorm, qnorm, zCritical } from './distributions.ts';
import { powerTwoProportions } from './power.ts';

// Power for the design a study actually has (docs/analysis-estimands.md §8.7): participants who
// decide on m scenarios each, correlated within a participant (intraclass correlation ρ of the
// binary outcome), scenarios of different difficulty, unequal arms. Two answers, side by side:
// - analytic: the design effect 1 + (m − 1)ρ shrinks the m·n episodes of an arm to an effective
//   n·m/(1 + (m − 1)ρ), fed to the two-proportion formula (as R's power.prop.test);
// - by seeded simulation: studies drawn from the design and each tested as the analysis would,
//   with a participant-cluster-robust variance of each arm's proportion; power is the share of
//   studies with p < α, with its Monte Carlo standard error.
// Episodes are correlated by a Gaussian copula: Y = 1 when Φ(√λ·z_participant + √(1−λ)·e) < p_s,
// which keeps every scenario's accuracy exactly p_s; λ is solved so that the outcome's ICC at the
// arm's mean accuracy is ρ. At ρ = 0 and m = 1 both answers are power.prop.test's.

export interface DesignScenario {
	/** Share of episodes on this scenario. */
	weight: number;
	/** Accuracy in the control arm and in the treatment arm on this scenario. */
	control: number;
	treatment: number;
}

export interface Design {
	/** Participants in the control arm; the treatment arm has ratio times as many. */
	participantsControl: number;
	ratio: number;
	episodesPerParticipant: number;
	/** Intraclass correlation of the binary outcome within a participant. */
	icc: number;
	scenarios: DesignScenario[];
	alpha: number;
}

export interface DesignPower {
	design_effect: number;
	analytic: { power: number; effective_per_arm: [number, number]; method: string };
	simulated: {
		power: number;
		monte_carlo_se: number;
		simulations: number;
		seed: number;
		method: string;
	} | null;
	p_control: number;
	p_treatment: number;
}

const marginal = (d: Design, arm: 'control' | 'treatment') => {
	const total = d.scenarios.reduce((s, x) => s + x.weight, 0);
	return d.scenarios.reduce((s, x) => s + (x.weight / total) * x[arm], 0);
};

/** P(Z1 < h, Z2 < h) for standard normals with correlation λ, by quadrature over the shared part. */
function bivariateOrthant(h: number, lambda: number): number {
	if (lambda <= 0) return pnorm(h) ** 2;
	const steps = 400;
	const range = 8;
	let sum = 0;
	for (let i = 0; i <= steps; i++) {
		const z = -range + (2 * range * i) / steps;
		const weight = i === 0 || i === steps ? 0.5 : 1;
		const inner = pnorm((h - Math.sqrt(lambda) * z) / Math.sqrt(1 - lambda));
		sum += weight * Math.exp(-0.5 * z * z) * inner * inner;
	}
	return (sum * (2 * range)) / steps / Math.sqrt(2 * Math.PI);
}

/** The copula correlation λ that gives the binary outcome an ICC of ρ at accuracy p. */
export function latentCorrelation(p: number, icc: number): number {
	if (icc <= 0) return 0;
	const h = qnorm(p);
	const iccAt = (lambda: number) => (bivariateOrthant(h, lambda) - p * p) / (p * (1 - p));
	let lo = 0;
	let hi = 0.999;
	if (iccAt(hi) < icc) return hi;
	for (let i = 0; i < 60; i++) {
		const mid = (lo + hi) / 2;
		if (iccAt(mid) < icc) lo = mid;
		else hi = mid;
	}
	return (lo + hi) / 2;
}

/** Power by the design effect: effective episodes per arm into the two-proportion formula. */
export function analyticDesignPower(
	d: Design
): DesignPower['analytic'] & { design_effect: number } {
	const m = d.episodesPerParticipant;
	const deff = 1 + (m - 1) * d.icc;
	const n1 = (d.participantsControl * m) / deff;
	return {
		design_effect: deff,
		power: powerTwoProportions(
			marginal(d, 'control'),
			marginal(d, 'treatment'),
			n1,
			d.alpha,
			d.ratio
		),
		effective_per_arm: [n1, d.ratio * n1],
		method: 'design effect 1 + (m − 1)·ICC, then the normal approximation of power.prop.test'
	};
}

/** One arm's simulated proportion and its participant-cluster-robust variance. */
function simulateArm(
	d: Design,
	arm: 'control' | 'treatment',
	people: number,
	lambda: number,
	random: () => number,
	normal: () => number
) {
	const total = d.scenarios.reduce((s, x) => s + x.weight, 0);
	const m = d.episodesPerParticipant;
	const successes = new Float64Array(people);
	let x = 0;
	for (let g = 0; g < people; g++) {
		const shared = Math.sqrt(lambda) * normal();
		for (let e = 0; e < m; e++) {
			let u = random() * total;
			let s = d.scenarios[0]!;
			for (const candidate of d.scenarios) {
				s = candidate;
				if ((u -= candidate.weight) < 0) break;
			}
			if (pnorm(shared + Math.sqrt(1 - lambda) * normal()) < s[arm]) successes[g]!++;
		}
		x += successes[g]!;
	}
	const n = people * m;
	const p = x / n;
	// The ratio estimator's variance, clustered by participant (each contributes m episodes).
	let sq = 0;
	for (let g = 0; g < people; g++) sq += (successes[g]! - p * m) ** 2;
	const variance = people > 1 ? ((people / (people - 1)) * sq) / (n * n) : NaN;
	return { p, variance };
}

/** Power of the design, analytic and by `simulations` seeded simulated studies. */
export function designPower(d: Design, simulations = 2000, seed = 1): DesignPower {
	const pc = marginal(d, 'control');
	const pt = marginal(d, 'treatment');
	const analytic = analyticDesignPower(d);
	const random = seedrandom(`design-power:${seed}`);
	let spare: number | null = null;
	const normal = () => {
		if (spare !== null) {
			const v = spare;
			spare = null;
			return v;
		}
		let u = 0;
		while (u === 0) u = random();
		const r = Math.sqrt(-2 * Math.log(u));
		const t = 2 * Math.PI * random();
		spare = r * Math.sin(t);
		return r * Math.cos(t);
	};
	const lambdaC = latentCorrelation(pc, d.icc);
	const lambdaT = latentCorrelation(pt, d.icc);
	const z = zCritical(1 - d.alpha);
	const treated = Math.round(d.ratio * d.participantsControl);
	let rejections = 0;
	for (let k = 0; k < simulations; k++) {
		const c = simulateArm(d, 'control', d.participantsControl, lambdaC, random, normal);
		const t = simulateArm(d, 'treatment', treated, lambdaT, random, normal);
		const se = Math.sqrt(c.variance + t.variance);
		if (se > 0 && Math.abs(t.p - c.p) / se > z) rejections++;
	}
	const power = rejections / simulations;
	return {
		design_effect: analytic.design_effect,
		analytic: {
			power: analytic.power,
			effective_per_arm: analytic.effective_per_arm,
			method: analytic.method
		},
		simulated:
			simulations > 0
				? {
						power,
						monte_carlo_se: Math.sqrt((power * (1 - power)) / simulations),
						simulations,
						seed,
						method:
							'seeded simulation: episodes correlated within participants (Gaussian copula at the given ICC), each study tested by z with participant-cluster-robust variances'
					}
				: null,
		p_control: pc,
		p_treatment: pt
	};
}
