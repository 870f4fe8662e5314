import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../analysis/analyze.ts';
import { cohenKappaNominal } from '../../analysis/stats/agreement.ts';
import { ExportError, readExportDir } from '../../analysis/io/export-reader.ts';
import { newcombePaired } from '../../analysis/stats/proportions.ts';
import { tempDir } from '../helpers/server.ts';
import { expected, writeSyntheticExport, type Truth } from '../helpers/synthetic-export.ts';

const TRUTH: Truth = {
	participantsPerArm: 3000,
	llmAccuracy: 0.8,
	uptake: 0.5,
	ownAccuracy: 0.4,
	benchmarkRuns: 200,
	seed: 'recover'
};

describe('reading an export', () => {
	it('refuses inconsistent data, naming file, row and column', () => {
		const dir = tempDir('bedside-export-');
		writeSyntheticExport(dir, { ...TRUTH, participantsPerArm: 3, benchmarkRuns: 1 });
		const file = (name: string) => path.join(dir, name);
		const lines = (name: string) => fs.readFileSync(file(name), 'utf8').split('\n');
		const episodes = lines('episodes.csv');
		const [, , scenario1, disposition1, correct1] = episodes[1]!.split(',');
		episodes.push(episodes[2]!); // a duplicated (participant, episode) row
		episodes[3] = episodes[3]!.replace(/^(p\d+),1,/, '$1,,'); // an empty episode number
		// A disposition_correct that contradicts the chosen disposition and the scenario's key.
		episodes[1] = episodes[1]!.replace(
			`,${disposition1},${correct1},`,
			`,${disposition1},${correct1 === '1' ? '0' : '1'},`
		);
		fs.writeFileSync(file('episodes.csv'), episodes.filter(Boolean).join('\n') + '\n');
		// A conversation coded for the wrong arm, and one for an episode the participant does not have.
		const recommendations = lines('recommendations.csv');
		const conversation = recommendations.findIndex((l) => l.startsWith('conversation,'));
		const cells = recommendations[conversation]!.split(',');
		recommendations[conversation] = [
			cells[0],
			cells[1],
			cells[2],
			'',
			'control',
			...cells.slice(5)
		].join(',');
		recommendations.push([cells[0], cells[1], '9', ...cells.slice(3)].join(','));
		fs.writeFileSync(
			file('recommendations.csv'),
			recommendations.filter(Boolean).join('\n') + '\n'
		);

		let error: ExportError | undefined;
		try {
			readExportDir(dir);
		} catch (e) {
			error = e as ExportError;
		}
		const messages = error!.problems.map((p) => `${p.file}:${p.row}:${p.column}: ${p.message}`);
		expect(messages).toEqual(
			expect.arrayContaining([
				expect.stringMatching(
					/^episodes\.csv:\d+:episode: episode \d+ of participant "p\d+" appears twice$/
				),
				expect.stringMatching(/^episodes\.csv:4:episode: is empty/),
				expect.stringMatching(
					new RegExp(
						`^episodes\\.csv:2:disposition_correct: is \\d, but "${disposition1}" is (not )?the correct disposition of scenario "${scenario1}"`
					)
				),
				expect.stringMatching(
					/^recommendations\.csv:\d+:arm_id: is "control", but participant "p\d+" is in arm "llm"$/
				),
				expect.stringMatching(
					/^recommendations\.csv:\d+:episode: participant "p\d+" has no episode "9"/
				)
			])
		);
	});

	it('names the file, row and column of every problem, and reads nothing half', () => {
		const dir = tempDir('bedside-export-');
		writeSyntheticExport(dir, { ...TRUTH, participantsPerArm: 3, benchmarkRuns: 1 });
		const episodes = fs.readFileSync(path.join(dir, 'episodes.csv'), 'utf8').split('\n');
		episodes[2] = episodes[2]!.replace(/,([01]),,,/, ',maybe,,,'); // row 3: a non-binary outcome
		fs.writeFileSync(path.join(dir, 'episodes.csv'), episodes.join('\n'));
		const participants = fs
			.readFileSync(path.join(dir, 'participants.csv'), 'utf8')
			.replace('p1,control', 'p1,placebo');
		fs.writeFileSync(path.join(dir, 'participants.csv'), participants);
		fs.writeFileSync(path.join(dir, 'measures.csv'), 'participant_id,episode,measure,value\n');
		const error = (() => {
			try {
				readExportDir(dir);
			} catch (e) {
				return e as ExportError;
			}
		})();
		expect(error).toBeInstanceOf(ExportError);
		expect(error!.problems).toEqual(
			expect.arrayContaining([
				{ file: 'measures.csv', row: 1, column: 'kind', message: 'required column is missing' },
				{
					file: 'measures.csv',
					row: 1,
					column: 'recorded_at',
					message: 'required column is missing'
				}
			])
		);
		// Fix the missing columns: the row-level problems then show.
		fs.writeFileSync(
			path.join(dir, 'measures.csv'),
			'participant_id,episode,measure,kind,value,recorded_at\n'
		);
		const second = (() => {
			try {
				readExportDir(dir);
			} catch (e) {
				return e as ExportError;
			}
		})();
		expect(second!.problems).toEqual([
			{
				file: 'participants.csv',
				row: 2,
				column: 'arm_id',
				message: 'unknown arm id "placebo" (study.json has control, llm)'
			},
			{
				file: 'episodes.csv',
				row: 3,
				column: 'disposition_correct',
				message: 'must be 0 or 1 (got "maybe")'
			}
		]);
	});
});

describe('reading malformed CSV', () => {
	it('names the file and row of a ragged row and of an unclosed quote, and reads nothing', () => {
		const dir = tempDir('bedside-export-');
		writeSyntheticExport(dir, { ...TRUTH, participantsPerArm: 3, benchmarkRuns: 1 });
		const lines = fs.readFileSync(path.join(dir, 'episodes.csv'), 'utf8').split('\n');
		lines[2] = `${lines[2]},an extra cell`;
		fs.writeFileSync(path.join(dir, 'episodes.csv'), lines.join('\n'));
		const ragged = (() => {
			try {
				readExportDir(dir);
			} catch (e) {
				return e as ExportError;
			}
		})();
		expect(ragged).toBeInstanceOf(ExportError);
		expect(ragged!.problems).toEqual([
			{
				file: 'episodes.csv',
				row: 3,
				message: expect.stringMatching(/^is not valid CSV: Too many fields/)
			}
		]);
		lines[2] = lines[2]!.replace(',an extra cell', '').replace(/,(\d),/, ',"$1,');
		fs.writeFileSync(path.join(dir, 'episodes.csv'), lines.join('\n'));
		const quote = (() => {
			try {
				readExportDir(dir);
			} catch (e) {
				return e as ExportError;
			}
		})();
		expect(quote!.problems[0]).toMatchObject({
			file: 'episodes.csv',
			message: expect.stringMatching(/^is not valid CSV: .*quote/i)
		});
	});
});

describe('analysis on a simulated study with known truth', () => {
	const dir = tempDir('bedside-truth-');
	writeSyntheticExport(dir, TRUTH);
	const result = analyze(readExportDir(dir), { seed: 11 });
	const truth = expected(TRUTH);
	const m = result.mediation.find((x) => x.arm === 'llm' && x.outcome === 'disposition_correct')!;

	it('recovers the LLM accuracy, the users’ accuracy, the gap and the uptake it was given', () => {
		expect(m.llm_in_conversation.p!).toBeCloseTo(truth.L, 1);
		expect(m.users.p!).toBeCloseTo(truth.Y, 1);
		expect(m.uptake.p!).toBeCloseTo(truth.U, 1);
		expect(m.llm_alone!.p).toBeCloseTo(truth.L, 1);
		for (const [estimate, ci, target] of [
			[m.llm_in_conversation.p!, m.llm_in_conversation.ci, truth.L],
			[m.users.p!, m.users.ci, truth.Y],
			[m.gap!.diff, m.gap!.ci, truth.L - truth.Y]
		] as const) {
			expect(ci[0]).toBeLessThan(estimate);
			expect(ci[1]).toBeGreaterThan(estimate);
			expect(ci[0] - 0.02).toBeLessThan(target);
			expect(ci[1] + 0.02).toBeGreaterThan(target);
		}
		// The split adds up: mean(L) − mean(Y) = not taken up − right despite wrong advice.
		expect(m.advice_not_taken_up! - m.right_despite_wrong_advice!).toBeCloseTo(m.gap!.diff, 12);
		expect(m.gap!.p_value!).toBeLessThan(0.001);
	});

	it('counts CONSORT and compares the arm with control with the planned test', () => {
		expect(result.consort).toMatchObject({
			consented: 6000,
			allocated: { control: 3000, llm: 3000 },
			analysed: { control: 3000, llm: 3000 }
		});
		const effect = result.effects.find(
			(e) => e.arm === 'llm' && e.outcome === 'disposition_correct'
		)!;
		expect(effect.diff).toBeCloseTo(truth.Y - TRUTH.ownAccuracy, 1);
		expect(effect).toMatchObject({ vs: 'control', test: 'chisq', method: 'newcombe-hybrid-score' });
	});

	it('gives byte-identical output for the same seed', () => {
		const again = analyze(readExportDir(dir), { seed: 11 });
		expect(JSON.stringify(again)).toBe(JSON.stringify(result));
		expect(result.seed).toBe(11);
	});

	it('covers the true mediation gap in about 95% of 400 simulated studies', () => {
		const random = seedrandom('coverage');
		const { L, Y } = expected({ ...TRUTH });
		let covered = 0;
		for (let rep = 0; rep < 400; rep++) {
			let a = 0,
				b = 0,
				c = 0,
				d = 0;
			for (let i = 0; i < 150; i++) {
				const l = random() < TRUTH.llmAccuracy;
				const y = random() < TRUTH.uptake ? l : random() < TRUTH.ownAccuracy;
				if (l && y) a++;
				else if (l) b++;
				else if (y) c++;
				else d++;
			}
			const { ci } = newcombePaired(a, b, c, d);
			if (ci[0] <= L - Y && L - Y <= ci[1]) covered++;
		}
		expect(covered / 400).toBeGreaterThanOrEqual(0.92);
		expect(covered / 400).toBeLessThanOrEqual(0.98);
	});
});

describe("Cohen's kappa", () => {
	it('matches a worked table: 20 both yes, 5 and 10 disagreeing, 15 both no gives 0.4', () => {
		// po = 35/50 = 0.7; pe = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 − 0.5)/(1 − 0.5) = 0.4
		const pairs: [string, string][] = [
			...Array<[string, string]>(20).fill(['1', '1']),
			...Array<[string, string]>(5).fill(['1', '0']),
			...Array<[string, string]>(10).fill(['0', '1']),
			...Array<[string, string]>(15).fill(['0', '0'])
		];
		expect(cohenKappaNominal(pairs)?.kappa).toBeCloseTo(0.4, 12);
	});
});

describe('proxies on a simulated study with known truth', () => {
	// The LLM arm helps nobody here (its advice is as good as people's own: Y = 0.4 in both arms),
	// yet it raises the helpfulness rating; confidence tracks the outcome in every arm.
	const dir = tempDir('bedside-proxy-');
	writeSyntheticExport(dir, {
		participantsPerArm: 1500,
		llmAccuracy: 0.4,
		uptake: 0.5,
		ownAccuracy: 0.4,
		benchmarkRuns: 10,
		seed: 'proxy',
		proxies: true
	});
	const result = analyze(readExportDir(dir), { seed: 5 });
	const block = (proxy: string) =>
		result.proxies.find((p) => p.proxy === proxy && p.outcome === 'disposition_correct')!;

	it('finds that confidence tracks the outcome (high rho and AUC) and helpfulness does not', () => {
		expect(block('confidence').spearman.rho).toBeGreaterThan(0.5);
		expect(block('confidence').auc!.estimate).toBeGreaterThan(0.8);
		expect(Math.abs(block('helpfulness').spearman.rho)).toBeLessThan(0.1);
	});

	it('flags helpfulness as discordant: the arm moves the proxy, not the outcome', () => {
		const effect = block('helpfulness').effects.find((e) => e.arm === 'llm')!;
		expect(effect.proxy_diff.diff).toBeCloseTo(1.5, 0);
		expect(effect.proxy_diff.ci[0]).toBeGreaterThan(0);
		expect(effect.outcome_diff.ci[0]).toBeLessThan(0);
		expect(effect.outcome_diff.ci[1]).toBeGreaterThan(0);
		expect(effect.discordant).toBe(true);
		expect(effect.prentice.treatment_affects_proxy.p_value).toBeLessThan(1e-6);
	});

	it('reports adjusted odds ratios with scenario fixed effects beside each unadjusted effect', () => {
		const effect = result.effects.find((e) => e.arm === 'llm') as {
			adjusted: { odds_ratio: number; ci: [number, number]; method: string };
		};
		expect(effect.adjusted.method).toBe('logistic-scenario-fixed-effects');
		expect(effect.adjusted.ci[0]).toBeLessThan(1);
		expect(effect.adjusted.ci[1]).toBeGreaterThan(1);
	});
});
