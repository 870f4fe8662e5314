/** Cohen's kappa for two raters' nominal codes of the same items (Cohen 1960). */
export interface KappaResult {
	n: number;
	/** Observed agreement. */
	observed: number;
	/** Agreement expected by chance from the two raters' margins. */
	expected: number;
	/** null when chance agreement is 1 (both raters used one and the same category). */
	kappa: number | null;
	method: 'cohen-kappa';
}

export function cohenKappaNominal(
	pairs: readonly (readonly [string, string])[]
): KappaResult | null {
	const n = pairs.length;
	if (n === 0) return null;
	const a = new Map<string, number>();
	const b = new Map<string, number>();
	let agree = 0;
	for (const [x, y] of pairs) {
		a.set(x, (a.get(x) ?? 0) + 1);
		b.set(y, (b.get(y) ?? 0) + 1);
		if (x === y) agree++;
	}
	const observed = agree / n;
	let expected = 0;
	for (const [category, count] of a) expected += (count / n) * ((b.get(category) ?? 0) / n);
	return {
		n,
		observed,
		expected,
		kappa: expected === 1 ? null : (observed - expected) / (1 - expected),
		method: 'cohen-kappa'
	};
}
