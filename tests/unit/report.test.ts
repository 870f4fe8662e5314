import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { evidenceFromAnalysis } from '../../analysis/evidence.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { htmlReport, markdownReport } from '../../analysis/report.ts';
import { tempDir } from '../helpers/server.ts';
import { writeSyntheticExport } from '../helpers/synthetic-export.ts';

describe('the report (Markdown and HTML)', () => {
	const dir = tempDir('bedside-report-');
	writeSyntheticExport(dir, {
		participantsPerArm: 400,
		llmAccuracy: 0.8,
		uptake: 0.5,
		ownAccuracy: 0.4,
		benchmarkRuns: 20,
		seed: 'report',
		proxies: true,
		covariates: true,
		preregistrationSha256: 'ab'.repeat(32)
	});
	const result = analyze(readExportDir(dir), { seed: 3 });
	const md = markdownReport(result, 'Synthetic');
	const html = htmlReport(result, 'Synthetic');

	it('shows uptake once, on the disposition row: it compares dispositions whatever the outcome', () => {
		// The same study with a second declared outcome in the mediation block (condition_correct).
		const both = structuredClone(result);
		both.mediation.push({ ...both.mediation[0]!, outcome: 'condition_correct' });
		both.declared_outcomes.push({ name: 'condition_correct', role: 'secondary', kind: 'clinical' });
		const lines = markdownReport(both, 'Synthetic').split('\n');
		const header = lines.findIndex((l) => l.includes('| uptake (disposition) |'));
		const row = (outcome: string) =>
			lines.slice(header + 2, header + 6).find((l) => l.includes(`| ${outcome} |`))!;
		expect(row('disposition_correct')).toMatch(/\| [\d.]+% \([\d.]+% to [\d.]+%\), n \d+ \|$/);
		expect(row('condition_correct')).toMatch(/\| — \|$/);
	});

	it('reads the decomposition as drops, not negative numbers', () => {
		const line = md.split('\n').find((l) => l.includes('Each drop is charged'))!;
		expect(line).toMatch(/task assumptions account for a (drop|gain) of \d+\.\d pp/);
		expect(line).not.toMatch(/−|-\d/);
	});

	it('puts the plan, seed and preregistered analyses first, then the exploratory ones', () => {
		const order = [
			'# Synthetic: analysis',
			'Preregistered plan: test chisq',
			'seed 3',
			'## Preregistered analyses',
			'### Participant flow (CONSORT 2010)',
			'### Protocol deviations',
			'### Arms',
			'### Effects against control',
			'### Decision mediation',
			'### Proxies against the clinical outcome',
			'## Exploratory analyses (not preregistered)',
			'### Other measures against the clinical outcome',
			'### Under- and over-triage',
			'### Baseline balance',
			'### Where the benchmark’s accuracy goes'
		].map((s) => md.indexOf(s));
		expect(order.every((i) => i >= 0)).toBe(true);
		expect([...order].sort((a, b) => a - b)).toEqual(order);
		// The declared proxy (confidence) is preregistered; the undeclared one (helpfulness) is not.
		const exploratory = md.indexOf('## Exploratory analyses');
		expect(md.indexOf('| confidence |')).toBeLessThan(exploratory);
		expect(md.indexOf('| helpfulness |')).toBeGreaterThan(exploratory);
	});

	it('shows the numbers of the JSON, with n, interval and method', () => {
		const arm = result.arms[0]!;
		const o = arm.outcomes.disposition_correct!;
		expect(md).toContain(
			`| ${arm.arm} | disposition_correct | ${o.successes} / ${o.n} | ${(100 * o.p!).toFixed(1)}% | ${(100 * o.ci[0]).toFixed(1)}% to ${(100 * o.ci[1]).toFixed(1)}% | wilson |`
		);
		expect(md).toMatch(/newcombe-hybrid-score/);
		// Every table row has as many cells as its header.
		for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
			const rows = block.split('\n');
			const cells = (r: string) => r.replace(/\\\|/g, '').split('|').length;
			for (const r of rows) expect(cells(r)).toBe(cells(rows[0]!));
		}
	});

	it('is one self-contained HTML file with the five kinds of chart', () => {
		expect(html.startsWith('<!doctype html>')).toBe(true);
		expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\((?!#)/i);
		for (const title of [
			'CONSORT 2010 flow diagram',
			'Effects against control (forest plot, primary intervals)',
			'Decision mediation, llm, disposition_correct',
			'Effects on confidence and on disposition_correct, by arm',
			'Staged decomposition'
		])
			expect(html).toContain(`<title>${title}</title>`);
		// The CONSORT numbers are drawn, not only tabulated.
		expect(html).toContain('Randomized (n = 800)');
		expect(html).toContain('Allocated: 400');
		expect(html).toContain('Received allocated condition: 400');
		// The waterfall shows the derived stages; the markdown points to the charts.
		expect(md).toContain('*Chart: CONSORT 2010 flow diagram (in the HTML report).*');
		const d = result.decomposition!;
		expect(d.stages.map((s) => s.name)).toEqual([
			'LLM alone (benchmark runs)',
			'LLM in conversation',
			'users with the LLM'
		]);
		expect(d.task_total + d.outcome_total).toBeCloseTo(d.stages[0]!.p - d.stages[2]!.p, 12);
	});

	it('escapes every label from the study, in text and in charts', () => {
		const hostile = tempDir('bedside-report-hostile-');
		writeSyntheticExport(hostile, {
			participantsPerArm: 30,
			llmAccuracy: 0.8,
			uptake: 0.5,
			ownAccuracy: 0.4,
			benchmarkRuns: 5,
			seed: 'hostile'
		});
		const file = path.join(hostile, 'study.json');
		const study = JSON.parse(fs.readFileSync(file, 'utf8'));
		study.study.title = '<img src=x onerror=alert(1)>';
		fs.writeFileSync(file, JSON.stringify(study));
		const page = htmlReport(analyze(readExportDir(hostile)), study.study.title);
		expect(page).not.toContain('<img');
		expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
	});

	it('reports balance of the baseline covariates with standardized differences', () => {
		const rows = result.balance;
		const age = rows.find((r) => r.covariate === 'age')!;
		expect(age.type).toBe('numeric');
		expect(age.by_arm.control!.n).toBe(400);
		expect(age.by_arm.llm!.mean).toBeGreaterThan(18);
		// Randomized with no true difference: a small standardized difference.
		expect(Math.abs(age.standardized_difference.llm!)).toBeLessThan(0.25);
		const yes = rows.find((r) => r.covariate === 'chatbot_use' && r.level === 'yes')!;
		expect(yes.type).toBe('categorical');
		expect(yes.by_arm.llm!.mean).toBeGreaterThan(0.3);
		expect(rows.some((r) => r.covariate === 'stratum')).toBe(true);
		expect(md).toContain('| age |');
	});

	it('maps the estimates to card assumptions as evidence', () => {
		const items = evidenceFromAnalysis(result);
		const gap = items.find(
			(i) =>
				i.assumption === 'decision_mediation' && i.estimate.startsWith('decision-mediation gap')
		)!;
		expect(gap.value).toBe(result.mediation[0]!.gap!.diff);
		expect(gap.ci).toEqual(result.mediation[0]!.gap!.ci);
		expect(items.filter((i) => i.assumption === 'outcome_validity').length).toBeGreaterThanOrEqual(
			2
		);
		expect(items.some((i) => i.assumption === 'interaction_type')).toBe(true);
	});
});

describe('cluster-robust variants in the analysis', () => {
	it('appear beside the plain ones when participants have several episodes, and only then', () => {
		const dir = tempDir('bedside-report-cluster-');
		writeSyntheticExport(dir, {
			participantsPerArm: 150,
			llmAccuracy: 0.8,
			uptake: 0.2,
			ownAccuracy: 0.4,
			benchmarkRuns: 10,
			seed: 'clustered',
			episodesPerParticipant: 4
		});
		const result = analyze(readExportDir(dir));
		expect(result.clustered_by_participant).toBe(true);
		const effect = result.effects[0] as {
			diff: number;
			ci: [number, number];
			cluster_bootstrap: { diff: number; ci: [number, number]; clusters: [number, number] };
			adjusted: {
				ci: [number, number];
				cluster_robust: { ci: [number, number]; clusters: number };
			};
		};
		expect(effect.cluster_bootstrap.diff).toBeCloseTo(effect.diff, 12);
		expect(effect.cluster_bootstrap.clusters).toEqual([150, 150]);
		expect(effect.adjusted.cluster_robust.clusters).toBe(300);
		// Correlated episodes: the cluster-robust intervals are wider than the plain ones.
		const width = (c: [number, number]) => c[1] - c[0];
		expect(width(effect.cluster_bootstrap.ci)).toBeGreaterThan(width(effect.ci));
		expect(
			Math.log(effect.adjusted.cluster_robust.ci[1] / effect.adjusted.cluster_robust.ci[0])
		).toBeGreaterThan(Math.log(effect.adjusted.ci[1] / effect.adjusted.ci[0]));
		expect(markdownReport(result)).toContain('95% CI, cluster bootstrap');

		const single = tempDir('bedside-report-single-');
		writeSyntheticExport(single, {
			participantsPerArm: 50,
			llmAccuracy: 0.8,
			uptake: 0.6,
			ownAccuracy: 0.4,
			benchmarkRuns: 5,
			seed: 'single'
		});
		const plain = analyze(readExportDir(single));
		expect(plain.clustered_by_participant).toBe(false);
		expect((plain.effects[0] as { cluster_bootstrap: unknown }).cluster_bootstrap).toBeNull();
	});
});

describe('the report of a study that was not preregistered', () => {
	it('never calls its analyses preregistered', () => {
		const dir = tempDir('bedside-report-unregistered-');
		writeSyntheticExport(dir, {
			participantsPerArm: 50,
			llmAccuracy: 0.8,
			uptake: 0.5,
			ownAccuracy: 0.4,
			benchmarkRuns: 5,
			seed: 'unregistered'
		});
		const md = markdownReport(analyze(readExportDir(dir), { seed: 3 }), 'Unregistered');
		expect(md).toContain('preregistration SHA-256 none (not preregistered)');
		expect(md).toContain('Analysis plan (not preregistered)');
		expect(md).toContain('## Analyses of the declared outcomes (not preregistered)');
		expect(md).not.toMatch(/Preregistered (plan|analyses)/);
	});
});

describe('the report of an interim look', () => {
	// Two people per arm, everyone right: zero cells everywhere, so odds ratios, correlations and
	// several intervals cannot be estimated. The report says so; it never prints NaN or Infinity,
	// and no chart carries a non-finite coordinate.
	const dir = tempDir('bedside-interim-');
	writeSyntheticExport(dir, {
		participantsPerArm: 2,
		llmAccuracy: 1,
		uptake: 1,
		ownAccuracy: 1,
		benchmarkRuns: 1,
		seed: 'interim',
		proxies: true
	});
	const result = analyze(readExportDir(dir), { seed: 5 });

	it.each([
		['Markdown', markdownReport(result, 'Interim')],
		['HTML', htmlReport(result, 'Interim')]
	])('%s: no NaN, no Infinity', (_, text) => {
		expect(text).not.toMatch(/NaN|Infinity/);
	});

	it('says "not estimable" where an estimate cannot be computed', () => {
		expect(markdownReport(result, 'Interim')).toContain('not estimable');
	});

	it('does not offer a PTE where the arm has no clear effect on the outcome', () => {
		expect(markdownReport(result, 'Interim')).toContain(
			'not interpretable (no clear effect on the outcome)'
		);
	});
});
