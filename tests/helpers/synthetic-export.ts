import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { requiredColumns } from '../../analysis/io/columns.ts';

// A study export with known truth, for the analysis tests. The assistant recommends the correct
// disposition with probability llmAccuracy; a participant takes the advice with probability
// uptake, and otherwise decides alone: correct with probability ownAccuracy, else a wrong level
// other than the one recommended. So, for the LLM arm:
//   P(L = 1) = llmAccuracy;  P(Y = 1) = uptake·llmAccuracy + (1 − uptake)·ownAccuracy
//   P(U = 1) = uptake + (1 − uptake)·llmAccuracy·ownAccuracy

export interface Truth {
	participantsPerArm: number;
	llmAccuracy: number;
	uptake: number;
	ownAccuracy: number;
	benchmarkRuns: number;
	seed: string;
	/** Write two proxies per episode: `confidence` tracks the outcome (3 + 2·Y + noise); `helpfulness` is moved by the LLM arm alone (4 + 1.5·llm + noise). */
	proxies?: boolean;
	/** Scenarios each participant decides on (default 1); a participant's own accuracy then varies around ownAccuracy, so their episodes are correlated. */
	episodesPerParticipant?: number;
	/** Write baseline covariates: `age` (numeric) and `chatbot_use` (yes/no, also the stratum). */
	covariates?: boolean;
	/** The preregistration's SHA-256 in study.json (default: none, a study not preregistered). */
	preregistrationSha256?: string;
	/** A participant flow with every path CONSORT draws (default: everyone allocated completes). */
	flow?: Flow;
}

/** Shares of allocated participants on each path, and the people who never reached allocation. */
export interface Flow {
	declined: number;
	screenedOut: number;
	/** Consented, not screened out, not yet randomized. */
	awaiting: number;
	notReceived: number;
	withdrewAfterFirst: number;
	unfinished: number;
	excludedAfterRandomization: number;
	failedAttention: number;
	/** The analysis plan's population (default: none given, intention to treat). */
	population?: 'intention_to_treat' | 'per_protocol';
}

type Fate =
	'not_received' | 'withdrew' | 'unfinished' | 'excluded' | 'failed_attention' | 'completed';

function fateOf(flow: Flow | undefined, u: number): Fate {
	if (!flow) return 'completed';
	const paths: [Fate, number][] = [
		['not_received', flow.notReceived],
		['withdrew', flow.withdrewAfterFirst],
		['unfinished', flow.unfinished],
		['excluded', flow.excludedAfterRandomization],
		['failed_attention', flow.failedAttention]
	];
	for (const [fate, share] of paths) if ((u -= share) < 0) return fate;
	return 'completed';
}

export const SCALE = [
	'self_care',
	'routine_gp',
	'urgent_primary_care',
	'emergency_department',
	'ambulance'
];
const SCENARIOS = [
	{ id: 's1', correct: 'self_care' },
	{ id: 's2', correct: 'routine_gp' },
	{ id: 's3', correct: 'emergency_department' },
	{ id: 's4', correct: 'ambulance' }
];

const csv = (rows: (string | number)[][]) =>
	rows
		.map((r) =>
			r
				.map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c)))
				.join(',')
		)
		.join('\n') + '\n';

export function expected(t: Truth) {
	return {
		L: t.llmAccuracy,
		Y: t.uptake * t.llmAccuracy + (1 - t.uptake) * t.ownAccuracy,
		U: t.uptake + (1 - t.uptake) * t.llmAccuracy * t.ownAccuracy
	};
}

export function writeSyntheticExport(dir: string, t: Truth): void {
	const random = seedrandom(t.seed);
	const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
	const wrong = (correct: string, not?: string) =>
		pick(SCALE.filter((d) => d !== correct && d !== not));
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'study.json'),
		JSON.stringify({
			format: 'bedside-export/1',
			study: {
				slug: 'synthetic',
				title: 'Synthetic study',
				protocol_sha256: 'x',
				preregistration_sha256: t.preregistrationSha256 ?? null
			},
			disposition_scale: SCALE,
			arms: [
				{ id: 'control', kind: 'control', label: 'Control' },
				{ id: 'llm', kind: 'llm_assisted', label: 'LLM', model: 'fake' }
			],
			scenarios: SCENARIOS.map((s) => ({
				id: s.id,
				title: s.id,
				correct_disposition: s.correct,
				relevant_conditions: []
			})),
			outcomes: [
				{ name: 'disposition_correct', role: 'primary', kind: 'clinical' },
				...(t.proxies ? [{ name: 'confidence', role: 'secondary', kind: 'proxy' }] : [])
			],
			analysis_plan: {
				alpha: 0.05,
				test: 'chisq',
				bootstrap: 200,
				seed: 1,
				...(t.flow?.population && { population: t.flow.population })
			},
			...(t.flow && { enrolment: { declined: t.flow.declined } })
		})
	);
	const participants: (string | number)[][] = [requiredColumns('participants.csv')];
	const episodes: (string | number)[][] = [requiredColumns('episodes.csv')];
	const recommendations: (string | number)[][] = [requiredColumns('recommendations.csv')];
	const measures: (string | number)[][] = [requiredColumns('measures.csv')];
	const noise = () => Math.round((random() + random() + random() - 1.5) * 2);
	const clamp = (x: number) => Math.min(7, Math.max(1, x));
	const at = '2026-11-22T10:00:00Z';
	let id = 0;
	const deviations: (string | number)[][] = [requiredColumns('deviations.csv')];
	for (let i = 0; i < (t.flow?.screenedOut ?? 0); i++)
		participants.push([`p${++id}`, '', '', 'excluded', at, '', '', 'ineligible at screening']);
	for (let i = 0; i < (t.flow?.awaiting ?? 0); i++)
		participants.push([`p${++id}`, '', '', 'consented', at, '', '', '']);
	for (const arm of ['control', 'llm']) {
		for (let i = 0; i < t.participantsPerArm; i++) {
			const pid = `p${++id}`;
			const uses = t.covariates ? (random() < 0.5 ? 'yes' : 'no') : '';
			const fate = fateOf(t.flow, random());
			const status = {
				not_received: 'allocated',
				withdrew: 'withdrawn',
				unfinished: 'in_progress',
				excluded: 'excluded',
				failed_attention: 'completed',
				completed: 'completed'
			}[fate];
			participants.push([
				pid,
				arm,
				uses,
				status,
				at,
				at,
				status === 'completed' ? at : '',
				fate === 'excluded' ? 'protocol violation' : ''
			]);
			if (t.flow && (fate === 'completed' || fate === 'failed_attention'))
				measures.push([pid, '', 'attention_colour', 'covariate', fate === 'completed' ? 1 : 0, at]);
			if (fate === 'excluded') deviations.push(['protocol_violation', arm, pid, '', at, '']);
			if (fate === 'not_received') continue;
			if (t.covariates) {
				measures.push([pid, '', 'age', 'covariate', 18 + Math.floor(random() * 60), at]);
				measures.push([pid, '', 'chatbot_use', 'covariate', uses, at]);
			}
			const episodes_ = t.episodesPerParticipant ?? 1;
			const own =
				episodes_ > 1
					? Math.min(0.98, Math.max(0.02, t.ownAccuracy + (random() - 0.5) * 0.8))
					: t.ownAccuracy;
			for (let episode = 1; episode <= episodes_; episode++) {
				// Withdrawing after the first decision, or leaving with the last one open.
				if (fate === 'withdrew' && episode > 1) break;
				const open = fate === 'unfinished' && episode === episodes_;
				const scenario = pick(SCENARIOS);
				let decision: string;
				if (arm === 'llm') {
					const rec = random() < t.llmAccuracy ? scenario.correct : wrong(scenario.correct);
					recommendations.push([
						'conversation',
						pid,
						episode,
						'',
						'llm',
						scenario.id,
						'rule',
						rec,
						rec === scenario.correct ? 1 : 0,
						'',
						''
					]);
					decision =
						random() < t.uptake
							? rec
							: random() < own
								? scenario.correct
								: wrong(scenario.correct, rec);
				} else {
					decision = random() < own ? scenario.correct : wrong(scenario.correct);
				}
				const y = decision === scenario.correct ? 1 : 0;
				if (open) {
					episodes.push([pid, episode, scenario.id, '', '', '', '', '', at, '']);
					continue;
				}
				episodes.push([pid, episode, scenario.id, decision, y, '', '', '', at, at]);
				if (t.proxies) {
					measures.push([pid, episode, 'confidence', 'proxy', clamp(3 + 2 * y + noise()), at]);
					measures.push([
						pid,
						episode,
						'helpfulness',
						'proxy',
						clamp(4 + (arm === 'llm' ? 1.5 : 0) + noise()),
						at
					]);
				}
			}
		}
	}
	for (const s of SCENARIOS) {
		for (let r = 0; r < t.benchmarkRuns; r++) {
			const rec = random() < t.llmAccuracy ? s.correct : wrong(s.correct);
			recommendations.push([
				'benchmark',
				'',
				'',
				`run-${s.id}-${r}`,
				'llm',
				s.id,
				'rule',
				rec,
				rec === s.correct ? 1 : 0,
				'',
				''
			]);
		}
	}
	fs.writeFileSync(path.join(dir, 'participants.csv'), csv(participants));
	fs.writeFileSync(path.join(dir, 'episodes.csv'), csv(episodes));
	fs.writeFileSync(path.join(dir, 'recommendations.csv'), csv(recommendations));
	fs.writeFileSync(path.join(dir, 'measures.csv'), csv(measures));
	if (t.flow) fs.writeFileSync(path.join(dir, 'deviations.csv'), csv(deviations));
}
