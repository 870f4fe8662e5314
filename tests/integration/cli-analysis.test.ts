import fs from 'node:fs';
import path from 'node:path';
import { bedside as run } from '../helpers/cli.ts';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { tempDir } from '../helpers/server.ts';
import { writeSyntheticExport } from '../helpers/synthetic-export.ts';

const bedside = (...args: string[]) => run({}, ...args);

describe('bedside power', () => {
	it('gives n per group, power, and the minimum detectable difference as R power.prop.test does', async () => {
		expect((await bedside('power', '--p1', '0.42', '--p2', '0.52')).stdout).toContain(
			'n per group = 389.85 → 390 in group 1, 390 in group 2'
		);
		expect((await bedside('power', '--p1', '0.42', '--p2', '0.52', '--n', '400')).stdout).toContain(
			'power = 0.8100'
		);
		expect((await bedside('power', '--p1', '0.42', '--n', '400')).stdout).toContain(
			'smallest detectable p2 = 0.5187 (difference 0.0987)'
		);
	});

	it('refuses bad input with the option named and exit code 2', async () => {
		const bad = await bedside('power', '--p1', '1.5', '--p2', '0.5');
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('--p1 must be a number between 0 and 1 (got "1.5")');
	});
});

describe('bedside decompose', () => {
	it("decomposes the paper's case study", async () => {
		const result = await bedside(
			'decompose',
			'tests/fixtures/analysis/bean-stages.yaml',
			'--format',
			'json'
		);
		const { decomposition } = JSON.parse(result.stdout);
		expect(decomposition.steps.map((s: { drop: number }) => Number(s.drop.toFixed(4)))).toEqual([
			0.1187, 0.1863, 0.3017
		]);
		expect(Number(decomposition.task_total.toFixed(4))).toBe(0.305);
		expect(decomposition.steps.map((s: { type: string }) => s.type)).toEqual([
			'task',
			'task',
			'outcome'
		]);
	});

	it('bootstraps intervals from counts, byte-identical for the same seed', async () => {
		const dir = tempDir('bedside-decompose-');
		const file = path.join(dir, 'stages.json');
		fs.writeFileSync(
			file,
			JSON.stringify({
				stages: [
					{ name: 'benchmark', successes: 142, n: 150 },
					{
						name: 'patient-written',
						successes: 124,
						n: 150,
						relaxes: 'query distribution',
						type: 'task'
					},
					{
						name: 'real users',
						successes: 102,
						n: 300,
						relaxes: 'decision mediation',
						type: 'outcome'
					}
				]
			})
		);
		const a = await bedside('decompose', file, '--seed', '7', '--bootstrap', '500');
		const b = await bedside('decompose', file, '--seed', '7', '--bootstrap', '500');
		expect(a.stdout).toBe(b.stdout);
		const { decomposition } = JSON.parse(a.stdout);
		expect(decomposition.seed).toBe(7);
		for (const step of decomposition.steps) {
			expect(step.ci[0]).toBeLessThan(step.drop);
			expect(step.ci[1]).toBeGreaterThan(step.drop);
		}
		const other = await bedside('decompose', file, '--seed', '8', '--bootstrap', '500');
		expect(other.stdout).not.toBe(a.stdout);
	});

	it('warns when an export has no decisions to analyse (a header-only episodes.csv)', async () => {
		const dir = tempDir('bedside-analyze-');
		writeSyntheticExport(dir, {
			participantsPerArm: 2,
			llmAccuracy: 0.8,
			uptake: 0.5,
			ownAccuracy: 0.4,
			benchmarkRuns: 1,
			seed: 'empty'
		});
		const header = fs.readFileSync(path.join(dir, 'episodes.csv'), 'utf8').split('\n')[0];
		fs.writeFileSync(path.join(dir, 'episodes.csv'), `${header}\n`);
		fs.writeFileSync(
			path.join(dir, 'recommendations.csv'),
			`${fs.readFileSync(path.join(dir, 'recommendations.csv'), 'utf8').split('\n')[0]}\n`
		);
		const empty = await bedside('analyze', dir);
		expect(empty.code).toBe(0);
		expect(empty.stderr).toMatch(/warning: .* has no submitted decisions/);
	});

	it('names the file and path of a bad stage, and exits 1', async () => {
		const dir = tempDir('bedside-decompose-');
		const file = path.join(dir, 'bad.json');
		fs.writeFileSync(
			file,
			JSON.stringify({
				stages: [
					{ name: 'a', p: 0.9 },
					{ name: 'b', p: 1.4, relaxes: 'x', type: 'task' }
				]
			})
		);
		const result = await bedside('decompose', file);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain(`${file}: 1 problem(s)`);
		expect(result.stderr).toContain('stages[1].p: must be ≤ 1');
	});
});

describe('bedside analyze', () => {
	it('analyses an export folder to JSON, and reports a broken one by file, row and column', async () => {
		const dir = tempDir('bedside-analyze-');
		writeSyntheticExport(dir, {
			participantsPerArm: 60,
			llmAccuracy: 0.8,
			uptake: 0.5,
			ownAccuracy: 0.4,
			benchmarkRuns: 5,
			seed: 'cli'
		});
		const ok = await bedside('analyze', dir, '--seed', '3');
		expect(ok.code).toBe(0);
		expect(ok.stderr).toBe('');
		const result = JSON.parse(ok.stdout);
		expect(result).toMatchObject({
			format: 'bedside-analysis/1',
			seed: 3,
			consort: { consented: 120 }
		});
		expect(result.mediation[0].gap.method).toBe('newcombe-paired-score');
		// The same export zipped (in a folder, as the download makes it) gives the same analysis,
		// and the Markdown report.
		const zipFile = path.join(tempDir('bedside-analyze-'), 'export.zip');
		fs.writeFileSync(
			zipFile,
			zipSync(
				Object.fromEntries(
					fs.readdirSync(dir).map((f) => [`study/${f}`, fs.readFileSync(path.join(dir, f))])
				)
			)
		);
		const zipped = await bedside('analyze', zipFile, '--seed', '3');
		expect(zipped.code).toBe(0);
		expect(zipped.stdout).toBe(ok.stdout);
		const md = await bedside('analyze', zipFile, '--format', 'md');
		expect(md.stdout).toMatch(/^# .*: analysis\n/);
		const evil = path.join(tempDir('bedside-analyze-'), 'evil.zip');
		fs.writeFileSync(evil, zipSync({ '../study.json': new TextEncoder().encode('{}') }));
		const refused = await bedside('analyze', evil);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('unsafe path');
		fs.writeFileSync(
			path.join(dir, 'episodes.csv'),
			fs.readFileSync(path.join(dir, 'episodes.csv'), 'utf8').replace(/,s1,/, ',s99,')
		);
		const bad = await bedside('analyze', dir);
		expect(bad.code).toBe(1);
		expect(bad.stderr).toMatch(/episodes\.csv row \d+ column scenario_id: unknown scenario "s99"/);
	});
});
