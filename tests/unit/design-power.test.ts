import fs from 'node:fs';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { designPower, latentCorrelation } from '../../analysis/stats/design-power.ts';
import { pnorm } from '../../analysis/stats/distributions.ts';

// Power for the actual design (spec §8.7): the design-effect answer equals power.prop.test at the
// effective n (R fixture), the simulated answer agrees with it within Monte Carlo error at ICC 0
// and one episode, and the copula really gives the outcome the ICC asked for.

const reference = JSON.parse(
	fs.readFileSync(new URL('../fixtures/analysis/reference-power.json', import.meta.url), 'utf8')
) as { n: number; m: number; icc: number; p1: number; p2: number; power: number }[];

const design = (r: (typeof reference)[number]) => ({
	participantsControl: r.n,
	ratio: 1,
	episodesPerParticipant: r.m,
	icc: r.icc,
	scenarios: [{ weight: 1, control: r.p1, treatment: r.p2 }],
	alpha: 0.05
});

describe('power for the actual design', () => {
	it.each(reference)(
		'by the design effect equals power.prop.test at the effective n (n $n, m $m, ICC $icc)',
		(r) => {
			const { analytic, design_effect } = designPower(design(r), 0);
			expect(design_effect).toBeCloseTo(1 + (r.m - 1) * r.icc, 12);
			expect(analytic.power).toBeCloseTo(r.power, 9);
		}
	);

	it('by simulation agrees with power.prop.test at ICC 0 and one episode (within 3 Monte Carlo SEs)', () => {
		const r = reference.find((x) => x.m === 1 && x.icc === 0)!;
		const { simulated } = designPower(design(r), 3000, 11);
		expect(Math.abs(simulated!.power - r.power)).toBeLessThan(3 * simulated!.monte_carlo_se);
		// Seeded: the same seed, the same answer.
		expect(designPower(design(r), 300, 5).simulated!.power).toBe(
			designPower(design(r), 300, 5).simulated!.power
		);
	});

	it('by simulation, with correlated episodes, falls below the independent design as the design effect says', () => {
		const r = reference.find((x) => x.m === 2 && x.icc === 0.3)!;
		const { simulated } = designPower(design(r), 3000, 12);
		expect(Math.abs(simulated!.power - r.power)).toBeLessThan(0.035);
		const independent = designPower({ ...design(r), icc: 0 }, 3000, 12).simulated!.power;
		expect(independent).toBeGreaterThan(simulated!.power + 0.05);
	});

	it('draws episodes whose intraclass correlation is the one asked for', () => {
		const p = 0.42;
		const lambda = latentCorrelation(p, 0.3);
		const random = seedrandom('icc');
		const normal = () => {
			let u = 0;
			while (u === 0) u = random();
			return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
		};
		let both = 0;
		let ones = 0;
		const pairs = 100_000;
		for (let i = 0; i < pairs; i++) {
			const shared = Math.sqrt(lambda) * normal();
			const a = pnorm(shared + Math.sqrt(1 - lambda) * normal()) < p ? 1 : 0;
			const b = pnorm(shared + Math.sqrt(1 - lambda) * normal()) < p ? 1 : 0;
			both += a * b;
			ones += a + b;
		}
		const mean = ones / (2 * pairs);
		const icc = (both / pairs - mean * mean) / (mean * (1 - mean));
		expect(Math.abs(icc - 0.3)).toBeLessThan(0.02);
		expect(Math.abs(mean - p)).toBeLessThan(0.01);
	});
});
