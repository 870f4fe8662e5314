import type { Interval } from '../result.ts';

// Every number in the report goes through these: an estimate that cannot be computed (no events, a
// zero cell, an empty arm on an interim look) reads "not estimable", never NaN or Infinity; an
// interval that was not computed reads "—".

type MaybeInterval = Interval | readonly [number, number] | null | undefined;
type MaybeNumber = number | null | undefined;

export const NOT_ESTIMABLE = 'not estimable';
const missing = (x: MaybeNumber): x is null | undefined => x === null || x === undefined;
export const estimable = (c: MaybeInterval): c is [number, number] =>
	!!c && Number.isFinite(c[0]) && Number.isFinite(c[1]);

export const pct = (p: MaybeNumber) =>
	missing(p) ? '—' : Number.isFinite(p) ? `${(100 * p).toFixed(1)}%` : NOT_ESTIMABLE;
export const ci = (c: MaybeInterval) =>
	!c ? '—' : estimable(c) ? `${pct(c[0])} to ${pct(c[1])}` : NOT_ESTIMABLE;
export const pp = (d: MaybeNumber) =>
	missing(d)
		? '—'
		: Number.isFinite(d)
			? `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)} pp`
			: NOT_ESTIMABLE;
/** An accuracy lost between stages, as a drop ("a drop of 12.0 pp"; a gain says so). */
export const drop = (d: MaybeNumber) =>
	missing(d) || !Number.isFinite(d)
		? pp(d)
		: d >= 0
			? `a drop of ${(100 * d).toFixed(1)} pp`
			: `a gain of ${(-100 * d).toFixed(1)} pp`;
export const ppci = (c: MaybeInterval) =>
	!c ? '—' : estimable(c) ? `${pp(c[0])} to ${pp(c[1])}` : NOT_ESTIMABLE;
export const pv = (p: MaybeNumber) =>
	missing(p) ? '—' : !Number.isFinite(p) ? NOT_ESTIMABLE : p < 0.001 ? '< 0.001' : p.toFixed(3);
export const num = (x: MaybeNumber, digits = 2) =>
	missing(x) ? '—' : Number.isFinite(x) ? x.toFixed(digits) : NOT_ESTIMABLE;
export const numci = (c: MaybeInterval, digits = 2) =>
	!c ? '—' : estimable(c) ? `${num(c[0], digits)} to ${num(c[1], digits)}` : NOT_ESTIMABLE;
/** "a: 3; b: 1" from counts by reason. */
export const reasons = (counts: Record<string, number>) =>
	Object.entries(counts)
		.map(([r, n]) => `${r}: ${n}`)
		.join('; ');
export const words = (id: string) => id.replace(/_/g, ' ');
