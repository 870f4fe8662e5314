import type { StudyProtocol } from '../lib/server/protocols/study-schema.ts';
import { runBot, type BotBehaviour, type BotOutcome, type BotResult } from './bot.ts';
import type { RequestKind, Timing } from './http-participant.ts';

// A pool of bots: n simulated participants, at most `concurrency` at a time, each through the
// real HTTP flow. The summary counts outcomes, what the bots did (their own record, to compare
// with what the server stored), and the latency of each kind of request.

export interface BotRunOptions {
	/** The server, or several instances (each bot sends its requests to each in turn). */
	baseUrl: string | string[];
	slug: string;
	n: number;
	concurrency: number;
	seed: string;
	behaviour: BotBehaviour;
	protocol?: StudyProtocol;
	/** Called after each bot ends (progress). */
	onBot?: (done: number, result: BotResult) => void;
	timeoutMs?: number;
}

export interface LatencySummary {
	count: number;
	p50: number | null;
	p99: number | null;
	max: number | null;
}

export interface BotRunSummary {
	n: number;
	concurrency: number;
	seed: string;
	behaviour: BotBehaviour;
	seconds: number;
	outcomes: Record<BotOutcome, number>;
	results: BotResult[];
	latency: Record<RequestKind, LatencySummary>;
	/** Share of decisions that followed the advice, among decisions with a recommendation. */
	observedUptake: number | null;
	errors: string[];
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: number[], q: number): number | null {
	if (sorted.length === 0) return null;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summariseLatency(timings: Timing[]): Record<RequestKind, LatencySummary> {
	const kinds: RequestKind[] = ['page', 'data', 'action', 'chat_first_token', 'chat_reply'];
	return Object.fromEntries(
		kinds.map((kind) => {
			const ms = timings
				.filter((t) => t.kind === kind)
				.map((t) => t.ms)
				.sort((a, b) => a - b);
			return [
				kind,
				{
					count: ms.length,
					p50: quantile(ms, 0.5),
					p99: quantile(ms, 0.99),
					max: ms.at(-1) ?? null
				}
			];
		})
	) as Record<RequestKind, LatencySummary>;
}

export async function runBots(o: BotRunOptions): Promise<BotRunSummary> {
	const started = performance.now();
	const results: BotResult[] = [];
	const timings: Timing[] = [];
	let next = 0;
	const worker = async () => {
		for (let i = next++; i < o.n; i = next++) {
			const { timings: own, ...result } = await runBot({
				baseUrl: o.baseUrl,
				slug: o.slug,
				index: i,
				seed: o.seed,
				behaviour: o.behaviour,
				protocol: o.protocol,
				timeoutMs: o.timeoutMs
			});
			results.push(result);
			for (const t of own) timings.push(t);
			o.onBot?.(results.length, result);
		}
	};
	await Promise.all(Array.from({ length: Math.min(o.concurrency, o.n) }, worker));
	results.sort((a, b) => a.index - b.index);
	const outcomes: Record<BotOutcome, number> = {
		completed: 0,
		ineligible: 0,
		dropped_out: 0,
		declined: 0,
		withdrawn: 0,
		closed: 0,
		error: 0
	};
	for (const r of results) outcomes[r.outcome]++;
	const advised = results.flatMap((r) => r.decisions).filter((d) => d.recommended !== null);
	return {
		n: o.n,
		concurrency: o.concurrency,
		seed: o.seed,
		behaviour: o.behaviour,
		seconds: (performance.now() - started) / 1000,
		outcomes,
		results,
		latency: summariseLatency(timings),
		observedUptake: advised.length
			? advised.filter((d) => d.tookAdvice).length / advised.length
			: null,
		errors: results.filter((r) => r.error).map((r) => `bot ${r.index}: ${r.error}`)
	};
}
