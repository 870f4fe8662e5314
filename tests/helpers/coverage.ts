import seedrandom from 'seedrandom';
import { analyze } from '../../analysis/analyze.ts';
import type {
	Episode,
	Measure,
	Recommendation,
	StudyExport
} from '../../analysis/io/export-reader.ts';
import { aucFromCells, spearmanFromCells } from '../../analysis/stats/association.ts';
import type { AnalysisResult, Interval } from '../../analysis/result.ts';
import { episode as episodeRow, studyInfo } from './study-export.ts';

// Coverage of the analysis' intervals over simulated studies with known truth, run through the
// whole `analyze` (so the wiring is checked with the method). Participants decide on several
// scenarios and differ in their own accuracy, their uptake of advice and their proxy level, so
// their episodes are correlated: the plain intervals should undercover, the participant-cluster
// ones should not. Every truth is a population value the design fixes (means of uniform
// participant effects), except the rank statistics', computed once from a very large sample.
// Used by tests/unit/coverage.test.ts (few studies) and `npm run bench -- coverage` (≥ 1,000).

export interface Design {
	peoplePerArm: number;
	episodes: number;
	/** Control participants' accuracy: U(base − spread, base + spread) per participant. */
	base: number;
	spread: number;
	llmAccuracy: number;
	/** Uptake of advice: U(uptake − 0.3, uptake + 0.3) per participant. */
	uptake: number;
	/** Benchmark runs per scenario, unbalanced on purpose, and the model-alone accuracy on each. */
	scenarios: { id: string; model: number; runs: number }[];
	/** Proxy = 3 + participant level U(−1.5, 1.5) + shift in the LLM arm + 1.5·Y + noise, rounded into 1–7. */
	proxyShift: number;
	resamples: number;
}

export const CORRELATED: Design = {
	peoplePerArm: 60,
	episodes: 3,
	base: 0.45,
	spread: 0.4,
	llmAccuracy: 0.75,
	uptake: 0.5,
	scenarios: [
		{ id: 'a', model: 0.95, runs: 30 },
		{ id: 'b', model: 0.7, runs: 12 },
		{ id: 'c', model: 0.4, runs: 4 }
	],
	proxyShift: 0.6,
	resamples: 400
};

const SCALE = ['low', 'high'];
type Random = () => number;

function proxyValue(random: Random, level: number, llm: boolean, y: number, shift: number) {
	const noise = (random() + random() + random() - 1.5) * 1.5;
	return Math.min(7, Math.max(1, Math.round(3 + level + (llm ? shift : 0) + 1.5 * y + noise)));
}

/** One simulated study as the reader would hand it over, and the scenario mix of the LLM arm. */
export function simulateStudy(
	d: Design,
	random: Random
): { data: StudyExport; mix: Map<string, number> } {
	const participants: StudyExport['participants'] = [];
	const episodes: Episode[] = [];
	const recommendations: Recommendation[] = [];
	const measures: Measure[] = [];
	const mix = new Map(d.scenarios.map((s) => [s.id, 0]));
	let id = 0;
	for (const arm of ['control', 'llm']) {
		for (let i = 0; i < d.peoplePerArm; i++) {
			const pid = `p${++id}`;
			participants.push({ id: pid, arm, stratum: '', status: 'completed', exclusionReason: '' });
			const own = d.base + (2 * random() - 1) * d.spread;
			const uptake = d.uptake + (2 * random() - 1) * 0.3;
			const level = (2 * random() - 1) * 1.5;
			for (let episode = 1; episode <= d.episodes; episode++) {
				const scenario = d.scenarios[Math.floor(random() * d.scenarios.length)]!;
				let y: 0 | 1;
				if (arm === 'llm') {
					mix.set(scenario.id, mix.get(scenario.id)! + 1);
					const l = random() < d.llmAccuracy ? 1 : 0;
					y = random() < uptake ? l : random() < own ? 1 : 0;
					recommendations.push({
						source: 'conversation',
						participant: pid,
						episode,
						runId: null,
						arm,
						scenario: scenario.id,
						coder: 'rule',
						disposition: l ? 'high' : 'low',
						dispositionCorrect: l,
						conditionCorrect: null
					});
				} else y = random() < own ? 1 : 0;
				episodes.push(
					episodeRow({
						participant: pid,
						episode,
						scenario: scenario.id,
						disposition: y ? 'high' : 'low',
						dispositionCorrect: y
					})
				);
				measures.push({
					participant: pid,
					episode,
					measure: 'confidence',
					kind: 'proxy',
					value: proxyValue(random, level, arm === 'llm', y, d.proxyShift),
					text: ''
				});
			}
		}
	}
	for (const s of d.scenarios)
		for (let r = 0; r < s.runs; r++) {
			const l = random() < s.model ? 1 : 0;
			recommendations.push({
				source: 'benchmark',
				participant: null,
				episode: null,
				runId: `${s.id}-${r}`,
				arm: 'llm',
				scenario: s.id,
				coder: 'rule',
				disposition: l ? 'high' : 'low',
				dispositionCorrect: l as 0 | 1,
				conditionCorrect: null
			});
		}
	const data: StudyExport = {
		study: studyInfo({
			slug: 'coverage',
			dispositionScale: SCALE,
			// Every scenario's correct level is "high": Y = 1 is deciding "high".
			scenarios: d.scenarios.map((s) => ({ id: s.id, correctDisposition: 'high' })),
			outcomes: [
				{ name: 'disposition_correct', role: 'primary', kind: 'clinical' },
				{ name: 'confidence', role: 'secondary', kind: 'proxy' }
			],
			plan: { bootstrap: d.resamples }
		}),
		participants,
		episodes,
		measures,
		recommendations,
		deviations: []
	};
	return { data, mix };
}

/** The population values of the design: fixed by it, or (rank statistics) from a huge sample. */
export function truthOf(d: Design) {
	const pLlm = d.uptake * d.llmAccuracy + (1 - d.uptake) * d.base;
	// Spearman and AUC of the proxy for Y over both arms, from 400,000 participants' cell counts.
	const random = seedrandom('coverage-truth');
	const cells = new Float64Array(2 * 7);
	const proxySum = [0, 0];
	const proxyN = [0, 0];
	for (let i = 0; i < 400_000; i++) {
		const llm = i % 2 === 1;
		const own = d.base + (2 * random() - 1) * d.spread;
		const uptake = d.uptake + (2 * random() - 1) * 0.3;
		const level = (2 * random() - 1) * 1.5;
		for (let e = 0; e < d.episodes; e++) {
			const l = random() < d.llmAccuracy ? 1 : 0;
			const y = llm ? (random() < uptake ? l : random() < own ? 1 : 0) : random() < own ? 1 : 0;
			const z = proxyValue(random, level, llm, y, d.proxyShift);
			cells[2 * (z - 1) + y]!++;
			proxySum[llm ? 1 : 0]! += z;
			proxyN[llm ? 1 : 0]!++;
		}
	}
	return {
		effect: pLlm - d.base,
		gap: d.llmAccuracy - pLlm,
		users: pLlm,
		spearman: spearmanFromCells(cells),
		auc: aucFromCells(cells),
		proxyDiff: proxySum[1]! / proxyN[1]! - proxySum[0]! / proxyN[0]!
	};
}

const covers = (ci: Interval | null | undefined, truth: number) =>
	!!ci && ci[0] <= truth && truth <= ci[1];

export interface CoverageCounts {
	studies: number;
	/** Per interval: how many studies it covered the truth in. */
	covered: Record<string, number>;
}

/** Runs `studies` simulated studies through `analyze` and counts each interval's coverage. */
export function coverage(d: Design, studies: number, seed: string): CoverageCounts {
	const truth = truthOf(d);
	const random = seedrandom(seed);
	const covered: Record<string, number> = {};
	const count = (name: string, ok: boolean) =>
		(covered[name] = (covered[name] ?? 0) + (ok ? 1 : 0));
	for (let k = 0; k < studies; k++) {
		const { data, mix } = simulateStudy(d, random);
		const a: AnalysisResult = analyze(data, { seed: k, mixedModel: false });
		const effect = a.effects[0]!;
		count('arm − control, plain', covers(effect.ci, truth.effect));
		count('arm − control, cluster', covers(effect.cluster_bootstrap?.ci, truth.effect));
		const m = a.mediation[0]!;
		count('mediation gap, plain', covers(m.gap?.ci, truth.gap));
		count('mediation gap, cluster', covers(m.gap?.cluster_bootstrap?.ci, truth.gap));
		// The benchmark-to-user gap is conditional on the scenario mix the arm's people met.
		const total = [...mix.values()].reduce((s, x) => s + x, 0);
		const alone = d.scenarios.reduce((s, x) => s + (mix.get(x.id)! / total) * x.model, 0);
		const b = m.benchmark_to_user_gap;
		count('benchmark-to-user gap, plain', covers(b?.ci, alone - truth.users));
		count('benchmark-to-user gap, cluster', covers(b?.cluster_bootstrap?.ci, alone - truth.users));
		const x = a.proxies[0]!;
		count('Spearman, plain', covers(x.spearman.ci, truth.spearman));
		count('Spearman, cluster', covers(x.spearman.cluster_bootstrap?.ci, truth.spearman));
		count('AUC, plain', covers(x.auc?.ci, truth.auc));
		count('AUC, cluster', covers(x.auc?.cluster_bootstrap?.ci, truth.auc));
		const w = x.effects[0]!.proxy_diff;
		count('Welch proxy difference, plain', covers(w.ci, truth.proxyDiff));
		count('Welch proxy difference, cluster', covers(w.cluster_bootstrap?.ci, truth.proxyDiff));
	}
	return { studies, covered };
}

/**
 * Judge–advisor studies with known behaviour, for the coverage of the advice-taking rates and of
 * the CACE: participants decide first (right with probability `initial`), then — in the LLM arm,
 * if they use the assistant (probability `uses`, per participant) — take right advice when they
 * were wrong with probability `rair` and keep a right decision against wrong advice with
 * probability `rsr`; otherwise they keep their first answer. Two episodes each.
 */
export const ADVICE = { people: 300, initial: 0.45, advice: 0.8, rair: 0.6, rsr: 0.7, uses: 0.7 };

export function adviceTruth(p = ADVICE) {
	const usedAccuracy =
		p.initial * (p.advice + (1 - p.advice) * p.rsr) + (1 - p.initial) * p.advice * p.rair;
	// Reliance is measured over the arm's episodes, users and non-users (who keep their first answer).
	return {
		rair: p.uses * p.rair,
		rsr: p.uses * p.rsr + (1 - p.uses),
		cace: usedAccuracy - p.initial
	};
}

export function simulateAdviceStudy(random: () => number, p = ADVICE): StudyExport {
	const scale = ['a', 'b', 'c', 'd'];
	const participants: StudyExport['participants'] = [];
	const episodes: Episode[] = [];
	const recommendations: Recommendation[] = [];
	for (let i = 0; i < p.people; i++) {
		const id = `p${i}`;
		const arm = i % 2 ? 'llm' : 'control';
		const uses = arm === 'llm' && random() < p.uses;
		participants.push({ id, arm, stratum: '', status: 'completed', exclusionReason: '' });
		for (let episode = 1; episode <= 2; episode++) {
			const correct = scale[(i + episode) % 4]!;
			const wrong = () => scale.filter((d) => d !== correct)[Math.floor(random() * 3)]!;
			const initial = random() < p.initial ? correct : wrong();
			let final = initial;
			if (arm === 'llm') {
				const advice = random() < p.advice ? correct : wrong();
				recommendations.push({
					source: 'conversation',
					participant: id,
					episode,
					runId: null,
					arm,
					scenario: correct,
					coder: 'rule',
					disposition: advice,
					dispositionCorrect: advice === correct ? 1 : 0,
					conditionCorrect: null
				});
				if (uses && initial !== correct && advice === correct)
					final = random() < p.rair ? advice : initial;
				else if (uses && initial === correct && advice !== correct)
					final = random() < p.rsr ? initial : advice;
			}
			episodes.push(
				episodeRow({
					participant: id,
					episode,
					scenario: correct,
					disposition: final,
					dispositionCorrect: final === correct ? 1 : 0,
					userMessages: uses ? 2 : 0,
					initialDisposition: initial,
					initialDispositionCorrect: initial === correct ? 1 : 0
				})
			);
		}
	}
	return {
		study: studyInfo({
			slug: 'advice-coverage',
			dispositionScale: scale,
			scenarios: scale.map((d) => ({ id: d, correctDisposition: d })),
			plan: { bootstrap: 100 }
		}),
		participants,
		episodes,
		measures: [],
		recommendations,
		deviations: null
	};
}

/** Coverage of RAIR, RSR (Wilson) and the CACE (2SLS, cluster-robust) over simulated studies. */
export function adviceCoverage(studies: number, seed: string): CoverageCounts {
	const truth = adviceTruth();
	const random = seedrandom(seed);
	const covered: Record<string, number> = {};
	const count = (name: string, ok: boolean) =>
		(covered[name] = (covered[name] ?? 0) + (ok ? 1 : 0));
	for (let k = 0; k < studies; k++) {
		const a = analyze(simulateAdviceStudy(random), { seed: k, mixedModel: false });
		const llm = a.advice_taking.find((x) => x.arm === 'llm')!.reliance!;
		count('relative positive reliance (RAIR)', covers(llm.rair.ci, truth.rair));
		count('relative self-reliance (RSR)', covers(llm.rsr.ci, truth.rsr));
		count('CACE of using the assistant', covers(a.cace[0]?.cace.ci, truth.cace));
	}
	return { studies, covered };
}
