import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import {
	armSequence,
	minimizationPick,
	planSlots,
	scenarioChunks,
	type ArmWeight
} from '../../src/lib/server/randomization/sequence.ts';

const THREE: ArmWeight[] = [
	{ key: 'control', weight: 1 },
	{ key: 'a', weight: 1 },
	{ key: 'b', weight: 1 }
];

/** Map.groupBy is Node 21+. */
function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
	const out = new Map<K, T[]>();
	for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
	return out;
}

const count = (keys: string[]) =>
	keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());

describe('permuted blocks', () => {
	const seq = armSequence(
		'seed-1',
		{ method: 'permuted_blocks', blockSizes: [3, 6] },
		THREE,
		'',
		600
	);

	it('balances every block exactly; only the last, cut by the sequence length, may be short', () => {
		const blocks = [...groupBy(seq, (s) => s.blockNumber).values()];
		expect(blocks.length).toBeGreaterThan(50);
		blocks.forEach((slots, i) => {
			const size = slots[0]!.blockSize!;
			if (i === blocks.length - 1) expect(slots.length).toBeLessThanOrEqual(size);
			else {
				expect(slots).toHaveLength(size);
				expect([...count(slots.map((s) => s.armKey)).values()]).toEqual([
					size / 3,
					size / 3,
					size / 3
				]);
			}
		});
	});

	it('varies the block size at random, so the next allocation cannot be guessed from the block end', () => {
		const sizes = count(
			[...groupBy(seq, (s) => s.blockNumber).values()].map((b) => String(b[0]!.blockSize))
		);
		expect(sizes.get('3')).toBeGreaterThan(20);
		expect(sizes.get('6')).toBeGreaterThan(20);
	});

	it('respects allocation weights (2:1)', () => {
		const arms = [
			{ key: 'x', weight: 2 },
			{ key: 'y', weight: 1 }
		];
		const s = armSequence('w', { method: 'permuted_blocks', blockSizes: [3, 6] }, arms, '', 300);
		const full = s.filter(
			(x) => [...groupBy(s, (y) => y.blockNumber).get(x.blockNumber)!].length === x.blockSize
		);
		const c = count(full.map((x) => x.armKey));
		expect(c.get('x')).toBe(2 * c.get('y')!);
	});

	it('is reproducible from the seed, and differs with another seed or stratum', () => {
		const again = armSequence(
			'seed-1',
			{ method: 'permuted_blocks', blockSizes: [3, 6] },
			THREE,
			'',
			600
		);
		expect(again).toEqual(seq);
		const other = armSequence(
			'seed-2',
			{ method: 'permuted_blocks', blockSizes: [3, 6] },
			THREE,
			'',
			600
		);
		expect(other.map((s) => s.armKey)).not.toEqual(seq.map((s) => s.armKey));
		const stratum = armSequence(
			'seed-1',
			{ method: 'permuted_blocks', blockSizes: [3, 6] },
			THREE,
			'often',
			600
		);
		expect(stratum.map((s) => s.armKey)).not.toEqual(seq.map((s) => s.armKey));
	});
});

describe('simple randomization', () => {
	it('is unbiased: over 60,000 draws each of three arms gets 1/3 within 4 standard errors', () => {
		const seq = armSequence('unbiased', { method: 'simple' }, THREE, '', 60_000);
		const c = count(seq.map((s) => s.armKey));
		const se = Math.sqrt((1 / 3) * (2 / 3) * 60_000);
		for (const arm of THREE) expect(Math.abs(c.get(arm.key)! - 20_000)).toBeLessThan(4 * se);
		// Pearson chi-square on 2 df: the 0.999 quantile is 13.8.
		const chi = [...c.values()].reduce((s, o) => s + (o - 20_000) ** 2 / 20_000, 0);
		expect(chi).toBeLessThan(13.8);
	});
});

describe('scenario sets', () => {
	const keys = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'];

	it('never repeat a scenario within a participant and balance scenarios within an arm', () => {
		const chunks = scenarioChunks('sc', '', 'a', keys, 2, 90); // 180 = 20 full cycles of 9
		for (const c of chunks) expect(new Set(c).size).toBe(2);
		expect([...count(chunks.flat()).values()]).toEqual(Array(9).fill(20));
	});

	it('are planned per slot from the arm’s own stream', () => {
		const slots = planSlots(
			'p',
			{ method: 'permuted_blocks', blockSizes: [3] },
			THREE,
			keys,
			2,
			'',
			270
		);
		for (const arm of THREE) {
			const mine = slots.filter((s) => s.armKey === arm.key).flatMap((s) => s.scenarioKeys);
			expect([...count(mine).values()]).toEqual(Array(9).fill(20));
		}
	});
});

describe('minimization (Pocock–Simon)', () => {
	function simulate(p: number, seed: string, n = 300) {
		const random = seedrandom(seed);
		const counts = new Map<string, Map<string, number>>();
		const arms: string[] = [];
		const people = Array.from({ length: n }, () => ({
			sex: random() < 0.5 ? 'f' : 'm',
			age: random() < 0.3 ? 'old' : 'young',
			site: ['a', 'b', 'c'][Math.floor(random() * 3)]!
		}));
		for (const levels of people) {
			const arm = minimizationPick(THREE, counts, levels, p, random(), random());
			arms.push(arm);
			for (const [f, l] of Object.entries(levels)) {
				const m = counts.get(`${f}=${l}`) ?? new Map<string, number>();
				m.set(arm, (m.get(arm) ?? 0) + 1);
				counts.set(`${f}=${l}`, m);
			}
		}
		const worst = Math.max(
			...[...counts.values()].map((m) => {
				const v = THREE.map((a) => m.get(a.key) ?? 0);
				return Math.max(...v) - Math.min(...v);
			})
		);
		return { arms, worst };
	}

	it('keeps every factor level balanced within a small bound, far tighter than chance', () => {
		for (const seed of ['m1', 'm2', 'm3', 'm4', 'm5']) {
			expect(simulate(0.8, seed).worst).toBeLessThanOrEqual(6);
		}
		// With no preference (p = 1/3 of picking the best among three is about chance), imbalance grows.
		const chance = Math.max(...['m1', 'm2', 'm3', 'm4', 'm5'].map((s) => simulate(0.34, s).worst));
		expect(chance).toBeGreaterThan(6);
	});

	it('still allocates at random: with p = 0.8 about a fifth of choices are not the minimizing arm', () => {
		const { arms } = simulate(0.8, 'm9', 900);
		expect(new Set(arms).size).toBe(3);
	});
});
