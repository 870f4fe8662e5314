import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { markdownReport } from '../../analysis/report.ts';
import { tempDir } from '../helpers/server.ts';
import { writeSyntheticExport } from '../helpers/synthetic-export.ts';

describe('the Markdown report', () => {
	const dir = tempDir('bedside-report-');
	writeSyntheticExport(dir, {
		participantsPerArm: 400,
		llmAccuracy: 0.8,
		uptake: 0.5,
		ownAccuracy: 0.4,
		benchmarkRuns: 20,
		seed: 'report',
		proxies: true
	});
	const result = analyze(readExportDir(dir), { seed: 3 });
	const md = markdownReport(result, 'Synthetic');

	it('states the plan and seed first, then the flow, arms, effects, mediation and proxies', () => {
		const order = [
			'# Synthetic: analysis',
			'Preregistered plan: test chisq',
			'seed 3',
			'## Participant flow (CONSORT)',
			'## Arms',
			'## Effects against control',
			'## Decision mediation',
			'## Proxies against the clinical outcome',
			'## Not computed yet'
		].map((s) => md.indexOf(s));
		expect(order.every((i) => i >= 0)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
	});

	it('shows the numbers of the JSON, with n, interval and method', () => {
		const arm = (
			result.arms as {
				arm: string;
				outcomes: Record<string, { successes: number; n: number; p: number; ci: [number, number] }>;
			}[]
		)[0]!;
		const o = arm.outcomes.disposition_correct!;
		expect(md).toContain(
			`| ${arm.arm} | disposition_correct | ${o.successes} / ${o.n} | ${(100 * o.p).toFixed(1)}% | ${(100 * o.ci[0]).toFixed(1)}% to ${(100 * o.ci[1]).toFixed(1)}% | wilson |`
		);
		expect(md).toMatch(/newcombe-hybrid-score/);
		// Every table row has as many cells as its header.
		for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
			const rows = block.split('\n');
			const cells = (r: string) => r.replace(/\\\|/g, '').split('|').length;
			for (const r of rows) expect(cells(r)).toBe(cells(rows[0]!));
		}
	});
});

describe('a study with nobody analysed yet', () => {
	it('is analysed and reported without failing: counts of zero, no effects', () => {
		const dir = tempDir('bedside-report-');
		writeSyntheticExport(dir, {
			participantsPerArm: 2,
			llmAccuracy: 0.8,
			uptake: 0.5,
			ownAccuracy: 0.4,
			benchmarkRuns: 1,
			seed: 'empty'
		});
		for (const file of [
			'participants.csv',
			'episodes.csv',
			'measures.csv',
			'recommendations.csv'
		]) {
			const header = fs.readFileSync(path.join(dir, file), 'utf8').split('\n')[0];
			fs.writeFileSync(path.join(dir, file), `${header}\n`);
		}
		const result = analyze(readExportDir(dir));
		expect(result.consort.consented).toBe(0);
		expect(result.effects).toEqual([]);
		expect(markdownReport(result)).toContain('Consented: 0.');
	});
});
