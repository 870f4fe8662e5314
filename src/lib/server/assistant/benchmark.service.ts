import { randomBytes } from 'node:crypto';
import type { LlmConfig } from '../config.ts';
import { ruleCodeMessages } from '../coding/coding.service.ts';
import { insertRecommendation, doneBenchmarkItems } from '../coding/recommendations.repository.ts';
import { codeDisposition } from '../coding/rule-coder.ts';
import type { Queryable } from '../db/types.ts';
import { scenarioIdsByKey } from '../participants/participants.repository.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import type { Scenario, StudyProtocol } from '../protocols/study-schema.ts';
import { ValidationError } from '../validation/problems.ts';
import { armIds } from '../randomization/allocation.repository.ts';
import {
	finishRun,
	findRun,
	firstTurnsByScenario,
	insertRun,
	type BenchmarkRunRow
} from './benchmark.repository.ts';
import { callWithRetries, type RetryPolicy } from './calls.ts';
import { limitsOf } from './limits.ts';
import type { AssistantConfig, ChatMessage, ChatRequest, Provider } from './provider.ts';
import { chatRequest, openAiProvider, providerFor } from './providers.ts';

// The LLM-alone condition: the arm's pinned model on each scenario, in the paper's three stages.
// - physician: the physician-written benchmark prompt (complete information, one turn);
// - patient-first-turn: each distinct first message real participants wrote in the scenario;
// - simulated: an LLM plays the patient from the participant's text, turn by turn, until the
//   assistant recommends a disposition (or the turn cap).
// Each (scenario, item, repeat) is stored once as a recommendation coded by the rule coder, so a
// run can be stopped and resumed; every call is logged in assistant_calls with the run id.

export type BenchmarkMode = BenchmarkRunRow['mode'];
export const BENCHMARK_MODES: BenchmarkMode[] = ['physician', 'patient-first-turn', 'simulated'];

export const PATIENT_INSTRUCTIONS = `You are role-playing a member of the public who is talking to a health assistant about a situation they are in. Here is your situation, written to you:

{situation}

Write as this person would, in plain everyday language, in the first person. Say only what the situation says or what follows from it; if asked something it does not say, answer that you are not sure. Do not name a diagnosis unless the situation does, and do not act as a doctor. Keep each message short. Reply with your next message only.`;

export interface BenchmarkOptions {
	slug: string;
	armKey: string;
	mode: BenchmarkMode;
	repeats: number;
	/** Resume this run (or start one with this id). */
	runId?: string;
	/** At most this many calls per minute (all calls, patient ones included). */
	ratePerMinute?: number;
	/** Simulated mode: the patient model (default: the arm's own model and endpoint). */
	patient?: { model?: string; endpoint?: string };
	/** Simulated mode: at most this many assistant turns. Default 6. */
	maxTurns?: number;
	llm: LlmConfig;
	baseDelayMs?: number;
	onProgress?: (progress: BenchmarkProgress) => void;
}

export interface BenchmarkProgress {
	total: number;
	done: number;
	failed: number;
}

export interface BenchmarkReport extends BenchmarkProgress {
	runId: string;
	resumed: boolean;
	/** Items already stored before this invocation (a resumed run). */
	skipped: number;
	failures: { scenario: string; item: string; repeat: number; error: string }[];
	/** Scenarios with nothing to run (no participant has written in them yet). */
	empty: string[];
	finished: boolean;
}

interface Item {
	scenario: Scenario;
	scenarioId: string;
	key: string;
	text: string;
}

/** A new run id: readable (arm, mode, time) and unique (two runs can start in the same second). */
function newRunId(armKey: string, mode: BenchmarkMode, now: Date): string {
	const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
	const suffix = randomBytes(3).toString('hex');
	return `${armKey.slice(0, 30)}-${mode}-${stamp}-${suffix}`.toLowerCase();
}

/** The arm the run is for, checked: it exists, has an assistant, and the repeats are sane. */
function armToRun(protocol: StudyProtocol, o: BenchmarkOptions) {
	const arm = protocol.arms.find((a) => a.id === o.armKey);
	if (!arm?.assistant)
		throw new ValidationError([
			{
				path: 'arm',
				message: `the study has no arm "${o.armKey}" with an assistant (arms with one: ${protocol.arms
					.filter((a) => a.assistant)
					.map((a) => a.id)
					.join(', ')})`
			}
		]);
	if (!Number.isInteger(o.repeats) || o.repeats < 1 || o.repeats > 1000)
		throw new ValidationError([
			{ path: 'repeats', message: 'must be a whole number from 1 to 1000' }
		]);
	return { arm, config: arm.assistant };
}

/** The run's record: found (and its settings checked against the resume) or created. */
async function startOrResume(
	db: Queryable,
	o: BenchmarkOptions,
	run: {
		runId: string;
		armKey: string;
		studyId: string;
		armId: string;
		preregistration: { protocolVersionId: string; protocolSha256: string };
		patient: ReturnType<typeof patientOf> | null;
		maxTurns: number;
	}
) {
	const existing = await findRun(db, run.runId);
	if (
		existing &&
		(existing.armKey !== run.armKey || existing.mode !== o.mode || existing.repeats !== o.repeats)
	)
		throw new ValidationError([
			{
				path: 'run',
				message: `run "${run.runId}" is arm ${existing.armKey}, mode ${existing.mode}, ${existing.repeats} repeats: resume it with the same settings`
			}
		]);
	if (!existing)
		await insertRun(db, {
			id: run.runId,
			studyId: run.studyId,
			armId: run.armId,
			protocolVersionId: run.preregistration.protocolVersionId,
			mode: o.mode,
			repeats: o.repeats,
			settings: {
				protocol_sha256: run.preregistration.protocolSha256,
				rate_per_minute: o.ratePerMinute ?? null,
				...(run.patient && {
					patient: { model: run.patient.model, endpoint: run.patient.provider.endpoint },
					max_turns: run.maxTurns
				})
			}
		});
	return existing;
}

/** What the model is asked, per scenario: the physician prompt, the participants' first turns, or the simulated patient's case. */
async function itemsOf(
	db: Queryable,
	studyId: string,
	protocol: StudyProtocol,
	mode: BenchmarkOptions['mode']
) {
	const scenarioIds = await scenarioIdsByKey(db, studyId);
	const firstTurns = mode === 'patient-first-turn' ? await firstTurnsByScenario(db, studyId) : null;
	const items: Item[] = [];
	const empty: string[] = [];
	for (const scenario of protocol.scenarios) {
		const scenarioId = scenarioIds.get(scenario.id)!;
		const texts =
			mode === 'physician'
				? [{ key: 'physician', text: scenario.benchmark_prompt }]
				: mode === 'simulated'
					? [{ key: 'simulated', text: scenario.participant_text }]
					: (firstTurns!.get(scenario.id) ?? []);
		if (texts.length === 0) empty.push(scenario.id);
		for (const t of texts) items.push({ scenario, scenarioId, key: t.key, text: t.text });
	}
	return { items, empty };
}

/** Runs (or resumes) a benchmark run; failures are reported and left to a later resume. */
export async function runBenchmark(db: Queryable, o: BenchmarkOptions): Promise<BenchmarkReport> {
	const { study, preregistration, protocol } = await verifyRunningConfig(db, o.slug);
	const { arm, config } = armToRun(protocol, o);
	const armId = (await armIds(db, study.id)).get(arm.id)!;
	const assistant = providerFor(config, o.llm);
	const patient = o.mode === 'simulated' ? patientOf(config, o) : null;
	const maxTurns = o.maxTurns ?? 6;
	const runId = o.runId ?? newRunId(arm.id, o.mode, new Date());
	const existing = await startOrResume(db, o, {
		runId,
		armKey: arm.id,
		studyId: study.id,
		armId,
		preregistration,
		patient,
		maxTurns
	});
	const { items, empty } = await itemsOf(db, study.id, protocol, o.mode);
	const done = await doneBenchmarkItems(db, runId);
	const report: BenchmarkReport = {
		runId,
		resumed: existing !== undefined,
		total: items.length * o.repeats,
		done: 0,
		failed: 0,
		skipped: 0,
		failures: [],
		empty,
		finished: false
	};
	const policy: RetryPolicy = {
		timeoutMs: limitsOf(config).timeoutMs,
		retryWindowMs: o.llm.retryWindowMs,
		baseDelayMs: o.baseDelayMs
	};
	const pace = pacer(o.ratePerMinute);
	const ctx = { studyId: study.id, armId, runId };

	/** One item, one repeat: asked, its reply coded by the rule coder and stored. */
	const runItem = async (item: Item, repeat: number) => {
		const result =
			o.mode === 'simulated'
				? await simulate(db, {
						assistant,
						patient: patient!,
						config,
						item,
						repeat,
						maxTurns,
						policy,
						pace,
						ctx,
						protocol
					})
				: await singleTurn(db, { assistant, config, item, repeat, policy, pace, ctx });
		const coded = ruleCodeMessages(result.assistantMessages, protocol, item.scenario);
		await insertRecommendation(db, {
			studyId: study.id,
			source: 'benchmark',
			runId,
			mode: o.mode,
			itemKey: item.key,
			repeat,
			armId,
			scenarioId: item.scenarioId,
			coder: 'rule',
			disposition: coded.disposition,
			conditionsCoded: coded.conditions,
			details: { ...result.details, coding: coded.details }
		});
	};

	for (const item of items)
		for (let repeat = 1; repeat <= o.repeats; repeat++) {
			if (done.has(`${item.scenarioId}|${item.key}|${repeat}`)) {
				report.skipped++;
				report.done++;
				continue;
			}
			try {
				await runItem(item, repeat);
				report.done++;
			} catch (e) {
				if (!(e instanceof BenchmarkItemError)) throw e;
				report.failed++;
				report.failures.push({
					scenario: item.scenario.id,
					item: item.key,
					repeat,
					error: e.message
				});
			}
			o.onProgress?.({ total: report.total, done: report.done, failed: report.failed });
		}
	if (report.done === report.total) {
		await finishRun(db, runId);
		report.finished = true;
	}
	return report;
}

class BenchmarkItemError extends Error {}

function patientOf(
	config: AssistantConfig,
	o: BenchmarkOptions
): { model: string; provider: Provider } {
	const model =
		o.patient?.model ?? (config.provider === 'openai-compatible' ? config.model : undefined);
	if (!model)
		throw new ValidationError([
			{
				path: 'patient-model',
				message: 'a scripted arm has no model to play the patient: name one with --patient-model'
			}
		]);
	const endpoint =
		o.patient?.endpoint ??
		(config.provider === 'openai-compatible' ? (config.endpoint ?? 'default') : 'default');
	return { model, provider: openAiProvider(endpoint, o.llm) };
}

/** Spaces calls to at most `perMinute` per minute. */
function pacer(perMinute: number | undefined): () => Promise<void> {
	if (!perMinute) return async () => {};
	const interval = 60_000 / perMinute;
	let next = 0;
	return async () => {
		const now = performance.now();
		const wait = Math.max(0, next - now);
		next = Math.max(now, next) + interval;
		if (wait > 0) await new Promise((r) => setTimeout(r, wait));
	};
}

/** The arm's pinned request; repeats vary a pinned seed (seed + repeat − 1) so they are not copies. */
function pinned(config: AssistantConfig, conversation: ChatMessage[], repeat: number): ChatRequest {
	const request = chatRequest(
		config,
		conversation.map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }))
	);
	if (request.seed !== undefined) request.seed += repeat - 1;
	return request;
}

interface CallArgs {
	assistant: Provider;
	config: AssistantConfig;
	item: Item;
	repeat: number;
	policy: RetryPolicy;
	pace: () => Promise<void>;
	ctx: { studyId: string; armId: string; runId: string };
}

async function call(
	db: Queryable,
	provider: Provider,
	request: ChatRequest,
	args: Pick<CallArgs, 'policy' | 'pace' | 'ctx'>,
	purpose: 'benchmark' | 'simulated_patient'
) {
	await args.pace();
	const outcome = await callWithRetries(
		db,
		provider,
		request,
		{ ...args.ctx, purpose },
		args.policy
	);
	if (!outcome.ok) throw new BenchmarkItemError(outcome.error.message);
	return outcome;
}

async function singleTurn(db: Queryable, a: CallArgs) {
	const outcome = await call(
		db,
		a.assistant,
		pinned(a.config, [{ role: 'user', content: a.item.text }], a.repeat),
		a,
		'benchmark'
	);
	return {
		assistantMessages: [outcome.result.content],
		details: { prompt: a.item.text, response: outcome.result.content, call_id: outcome.callId }
	};
}

async function simulate(
	db: Queryable,
	a: CallArgs & {
		patient: { model: string; provider: Provider };
		maxTurns: number;
		protocol: StudyProtocol;
	}
) {
	const transcript: ChatMessage[] = [];
	const patientSystem = PATIENT_INSTRUCTIONS.replace('{situation}', a.item.text.trim());
	let reachedFinal = false;
	for (let turn = 1; turn <= a.maxTurns && !reachedFinal; turn++) {
		// The patient sees the conversation from the other side: the assistant's words are "user".
		const patientView: ChatMessage[] = [
			{ role: 'system', content: patientSystem },
			...(transcript.length === 0
				? [{ role: 'user' as const, content: 'Write your first message to the health assistant.' }]
				: transcript.map((m) => ({
						role: m.role === 'assistant' ? ('user' as const) : ('assistant' as const),
						content: m.content
					})))
		];
		const said = await call(
			db,
			a.patient.provider,
			{ model: a.patient.model, messages: patientView, temperature: 1, max_tokens: 300 },
			a,
			'simulated_patient'
		);
		transcript.push({ role: 'user', content: said.result.content.trim() });
		const replied = await call(
			db,
			a.assistant,
			pinned(a.config, transcript, a.repeat),
			a,
			'benchmark'
		);
		transcript.push({ role: 'assistant', content: replied.result.content });
		reachedFinal = codeDisposition(
			replied.result.content,
			a.protocol.disposition_scale
		).mentions.some((m) => !m.qualified);
	}
	return {
		assistantMessages: transcript.filter((m) => m.role === 'assistant').map((m) => m.content),
		details: {
			transcript,
			turns: transcript.length / 2,
			reached_final_answer: reachedFinal,
			patient_model: a.patient.model
		}
	};
}
