import { expect } from 'vitest';
import type { AnalysisResult } from '../../analysis/result.ts';

/**
 * The CONSORT arithmetic every analysis must satisfy: each level of the flow adds up to the one
 * above it, the §7 keys agree with the CONSORT 2010 block, and the analysed episodes are the
 * episodes every estimate counts.
 */
export function expectConsortAddsUp(a: AnalysisResult): void {
	const c = a.consort;
	const e = c.enrolment;
	if (e.declined !== null) expect(e.assessed).toBe(e.declined + e.consented);
	expect(e.consented).toBe(c.consented);
	expect(e.screened_out.total + e.awaiting_allocation + e.randomized).toBe(e.consented);
	const sumOf = (xs: Record<string, number>) => Object.values(xs).reduce((s, x) => s + x, 0);
	expect(sumOf(e.screened_out.reasons)).toBe(e.screened_out.total);
	expect(c.arms.reduce((s, x) => s + x.allocated, 0)).toBe(e.randomized);
	for (const arm of c.arms) {
		expect(arm.received + arm.not_received).toBe(arm.allocated);
		const f = arm.follow_up;
		expect(f.completed + f.withdrawn + f.excluded + f.did_not_finish).toBe(arm.allocated);
		for (const population of ['intention_to_treat', 'per_protocol'] as const) {
			const x = arm.analysis[population];
			expect(x.people + x.excluded.total).toBe(arm.allocated);
			expect(sumOf(x.excluded.reasons)).toBe(x.excluded.total);
			expect(x.people <= arm.received).toBe(true);
		}
		expect(arm.analysis.per_protocol.people <= arm.analysis.intention_to_treat.people).toBe(true);
		// The §7 keys say the same as the CONSORT 2010 block.
		expect(c.allocated[arm.arm]).toBe(arm.allocated);
		expect(c.completed[arm.arm]).toBe(f.completed);
		expect(c.withdrawn[arm.arm]).toBe(f.withdrawn);
		expect(c.analysed[arm.arm]).toBe(arm.analysis[c.population].people);
		// Every estimate of the arm counts the analysed episodes.
		expect(a.arms.find((x) => x.arm === arm.arm)?.n).toBe(arm.analysis[c.population].episodes);
	}
}
