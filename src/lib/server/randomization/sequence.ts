import seedrandom from 'seedrandom';

// The allocation sequence as a pure function of (seed, design, stratum, position): generated up
// front into allocation slots, and re-derivable by anyone who has the revealed seed. Nothing here
// touches the database or a clock.

export const ALGORITHM_VERSION = 'bedside-rand/1';

export interface ArmWeight {
	key: string;
	weight: number;
}

export type BlockDesign =
	{ method: 'simple' } | { method: 'permuted_blocks' | 'stratified_blocks'; blockSizes: number[] };

export interface PlannedSlot {
	position: number;
	armKey: string;
	blockNumber: number | null;
	blockSize: number | null;
	scenarioKeys: string[];
}

/** A seeded uniform [0, 1) stream; one per purpose, so adding scenarios never shifts arm draws. */
export function stream(seed: string, ...purpose: (string | number)[]): () => number {
	return seedrandom([seed, ALGORITHM_VERSION, ...purpose].join('\u0000'));
}

/** Fisher–Yates shuffle driven by a seeded stream (returns a new array). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** Picks an arm with probability proportional to its weight. */
export function weightedPick(arms: readonly ArmWeight[], u: number): string {
	const total = arms.reduce((s, a) => s + a.weight, 0);
	let x = u * total;
	for (const a of arms) {
		x -= a.weight;
		if (x < 0) return a.key;
	}
	return arms[arms.length - 1]!.key;
}

/** The arms of positions 1..n of one stratum: simple randomization or permuted blocks of random size. */
export function armSequence(
	seed: string,
	design: BlockDesign,
	arms: readonly ArmWeight[],
	stratum: string,
	n: number
): Omit<PlannedSlot, 'scenarioKeys'>[] {
	const out: Omit<PlannedSlot, 'scenarioKeys'>[] = [];
	if (design.method === 'simple') {
		const random = stream(seed, 'simple', stratum);
		for (let position = 1; position <= n; position++) {
			out.push({
				position,
				armKey: weightedPick(arms, random()),
				blockNumber: null,
				blockSize: null
			});
		}
		return out;
	}
	const total = arms.reduce((s, a) => s + a.weight, 0);
	const sizeRandom = stream(seed, 'block-size', stratum);
	const orderRandom = stream(seed, 'block-order', stratum);
	for (let block = 1; out.length < n; block++) {
		const size = design.blockSizes[Math.floor(sizeRandom() * design.blockSizes.length)]!;
		const contents = arms.flatMap((a) => Array<string>((size / total) * a.weight).fill(a.key));
		for (const armKey of shuffle(contents, orderRandom)) {
			out.push({ position: out.length + 1, armKey, blockNumber: block, blockSize: size });
		}
	}
	return out;
}

/**
 * Scenario sets balanced within each arm: the arm's participants take consecutive chunks of a
 * stream of shuffled complete scenario lists, so over every full cycle each scenario is seen
 * equally often in every arm and arm comparisons are not confounded by scenario mix.
 */
export function scenarioChunks(
	seed: string,
	stratum: string,
	armKey: string,
	scenarioKeys: readonly string[],
	perParticipant: number,
	count: number
): string[][] {
	const random = stream(seed, 'scenarios', stratum, armKey);
	const flat: string[] = [];
	while (flat.length < count * perParticipant) {
		// Avoid giving one participant the same scenario twice across a cycle boundary.
		let next = shuffle(scenarioKeys, random);
		const tail = flat.slice(flat.length - (flat.length % perParticipant));
		for (
			let tries = 0;
			tries < 20 && next.slice(0, perParticipant - tail.length).some((k) => tail.includes(k));
			tries++
		) {
			next = shuffle(scenarioKeys, random);
		}
		flat.push(...next);
	}
	return Array.from({ length: count }, (_, i) =>
		flat.slice(i * perParticipant, (i + 1) * perParticipant)
	);
}

/** Positions 1..n of a stratum with their arms and scenario sets. */
export function planSlots(
	seed: string,
	design: BlockDesign,
	arms: readonly ArmWeight[],
	scenarioKeys: readonly string[],
	perParticipant: number,
	stratum: string,
	n: number
): PlannedSlot[] {
	const sequence = armSequence(seed, design, arms, stratum, n);
	const byArm = new Map<string, string[][]>();
	for (const a of arms) {
		const count = sequence.filter((s) => s.armKey === a.key).length;
		byArm.set(a.key, scenarioChunks(seed, stratum, a.key, scenarioKeys, perParticipant, count));
	}
	const used = new Map<string, number>();
	return sequence.map((s) => {
		const j = used.get(s.armKey) ?? 0;
		used.set(s.armKey, j + 1);
		return { ...s, scenarioKeys: byArm.get(s.armKey)![j]! };
	});
}

/**
 * Pocock–Simon minimization with a random element: for each arm, the imbalance (range of arm
 * totals, weighted by allocation ratio) that allocating this participant there would cause, summed
 * over factors; the least-imbalanced arm is chosen with probability `p`, otherwise another arm at
 * random. Ties are broken at random. `u1`, `u2` are the position's two seeded uniforms.
 */
export function minimizationPick(
	arms: readonly ArmWeight[],
	counts: ReadonlyMap<string, ReadonlyMap<string, number>>,
	levels: Readonly<Record<string, string>>,
	p: number,
	u1: number,
	u2: number
): string {
	const scores = arms.map((candidate) => {
		let score = 0;
		for (const [factor, level] of Object.entries(levels)) {
			const totals = arms.map((a) => {
				const n = counts.get(`${factor}=${level}`)?.get(a.key) ?? 0;
				return (n + (a.key === candidate.key ? 1 : 0)) / a.weight;
			});
			score += Math.max(...totals) - Math.min(...totals);
		}
		return { key: candidate.key, score };
	});
	const best = Math.min(...scores.map((s) => s.score));
	const preferred = scores.filter((s) => s.score === best).map((s) => s.key);
	const others = scores.filter((s) => s.score !== best).map((s) => s.key);
	if (others.length === 0 || u1 < p) return preferred[Math.floor(u2 * preferred.length)]!;
	return others[Math.floor(u2 * others.length)]!;
}
