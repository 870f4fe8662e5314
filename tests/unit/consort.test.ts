import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { htmlReport, markdownReport } from '../../analysis/report.ts';
import { expectConsortAddsUp } from '../helpers/consort.ts';
import { tempDir } from '../helpers/server.ts';
import { writeSyntheticExport, type Flow, type Truth } from '../helpers/synthetic-export.ts';

// CONSORT 2010 and the populations: a flow with every path (declined, screened out, awaiting
// allocation, allocated but never started, withdrew, left unfinished, excluded after
// randomization, failed an attention check, completed) must add up at every level, put the people
// excluded after randomization in the analysis by intention to treat and out of it per protocol.

const FLOW: Flow = {
	declined: 17,
	screenedOut: 9,
	awaiting: 3,
	notReceived: 0.05,
	withdrewAfterFirst: 0.08,
	unfinished: 0.07,
	excludedAfterRandomization: 0.05,
	failedAttention: 0.1
};
const TRUTH: Truth = {
	participantsPerArm: 200,
	llmAccuracy: 0.8,
	uptake: 0.5,
	ownAccuracy: 0.4,
	benchmarkRuns: 10,
	seed: 'consort',
	episodesPerParticipant: 2,
	flow: FLOW
};

function analyseFlow(truth: Truth, options: Parameters<typeof analyze>[1] = {}) {
	const dir = tempDir('bedside-consort-');
	writeSyntheticExport(dir, truth);
	return { data: readExportDir(dir), result: analyze(readExportDir(dir), options) };
}

describe('CONSORT 2010 flow', () => {
	const { data, result } = analyseFlow(TRUTH);

	it('adds up at every level, on flows with every path and on the plain ones', () => {
		expectConsortAddsUp(result);
		for (const seed of ['a', 'b', 'c'])
			expectConsortAddsUp(analyseFlow({ ...TRUTH, seed, participantsPerArm: 40 }).result);
		expectConsortAddsUp(analyseFlow({ ...TRUTH, flow: undefined }).result);
	});

	it('counts enrolment from the export: declined, screened out with reasons, awaiting, randomized', () => {
		const e = result.consort.enrolment;
		expect(e).toMatchObject({
			declined: 17,
			assessed: 17 + data.participants.length,
			screened_out: { total: 9, reasons: { 'ineligible at screening': 9 } },
			awaiting_allocation: 3,
			randomized: 400
		});
	});

	it('places each randomized person where their record says, arm by arm', () => {
		for (const arm of result.consort.arms) {
			const people = data.participants.filter((p) => p.arm === arm.arm);
			const started = new Set(data.episodes.map((e) => e.participant));
			expect(arm.allocated).toBe(people.length);
			expect(arm.not_received).toBe(people.filter((p) => !started.has(p.id)).length);
			expect(arm.follow_up.excluded).toBe(people.filter((p) => p.status === 'excluded').length);
			const itt = arm.analysis.intention_to_treat;
			// Everyone randomized with a decision is analysed by intention to treat, the excluded too.
			expect(itt.excluded.reasons).toEqual({ 'no decision submitted': arm.not_received });
			const pp = arm.analysis.per_protocol;
			expect(pp.excluded.reasons['failed an attention check']).toBeGreaterThan(0);
			expect(pp.excluded.reasons['excluded after randomization: protocol violation']).toBe(
				arm.follow_up.excluded
			);
			expect(itt.missing_outcome_episodes).toBeGreaterThan(0);
		}
	});

	it('analyses intention to treat by default, per protocol as the labelled sensitivity analysis', () => {
		expect(result.population).toBe('intention_to_treat');
		expect(result.sensitivity?.population).toBe('per_protocol');
		const control = (r: typeof result.arms) => r.find((x) => x.arm === 'control')!.n;
		expect(control(result.sensitivity!.arms)).toBeLessThan(control(result.arms));
		expect(result.departures).toEqual([]);
		const md = markdownReport(result);
		expect(md).toContain('### Sensitivity analysis: per protocol population');
		expect(md).toContain('Departures from the plan: none.');
	});

	it('follows a per-protocol plan, and reports overriding the plan as a departure', () => {
		const perProtocol = analyseFlow({ ...TRUTH, flow: { ...FLOW, population: 'per_protocol' } });
		expect(perProtocol.result.population).toBe('per_protocol');
		expect(perProtocol.result.sensitivity?.population).toBe('intention_to_treat');
		expectConsortAddsUp(perProtocol.result);
		const overridden = analyze(perProtocol.data, { population: 'intention_to_treat', seed: 9 });
		expect(overridden.departures).toEqual([
			"Seed 9 was used instead of the plan's 1.",
			"The primary population is intention to treat, not the plan's per protocol."
		]);
		expect(markdownReport(overridden)).toContain('Departures from the plan: Seed 9 was used');
	});

	it('lists the recorded protocol deviations by kind and arm', () => {
		expect(result.deviations.recorded).toBe(true);
		const excluded = result.consort.arms.reduce((s, a) => s + a.follow_up.excluded, 0);
		expect(result.deviations.total).toBe(excluded);
		expect(result.deviations.by_kind.map((d) => d.kind)).toEqual([
			'protocol_violation',
			'protocol_violation'
		]);
		expect(markdownReport(result)).toMatch(/\| protocol violation \| control \| \d+ \|/);
		// Without deviations.csv the report says they were not recorded, not that there were none.
		const plain = analyseFlow({ ...TRUTH, flow: undefined }).result;
		expect(plain.deviations.recorded).toBe(false);
		expect(markdownReport(plain)).toContain('deviations were not recorded with the data');
	});

	it('draws the CONSORT 2010 boxes with the numbers of the JSON', () => {
		const html = htmlReport(result);
		const arm = result.consort.arms[0]!;
		for (const text of [
			`Assessed (n = ${result.consort.enrolment.assessed})`,
			`declined consent: 17`,
			`Randomized (n = 400)`,
			`Received allocated condition: ${arm.received}`,
			`Excluded after randomization: ${arm.follow_up.excluded}`,
			`Analysed: ${arm.analysis.intention_to_treat.people} people, ${arm.analysis.intention_to_treat.episodes} episodes`
		])
			expect(html).toContain(text);
	});
});
