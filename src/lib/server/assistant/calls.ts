import type { Queryable } from '../db/types.ts';
import { whenDatabaseAnswers } from '../db/when-back.ts';
import { finishCall, insertCall, type CallContext, type CallEnd } from './assistant.repository.ts';
import { ProviderError, type ChatRequest, type ChatResult, type Provider } from './provider.ts';

// One reply, with retries: every attempt is a row in assistant_calls (parameters sent, what came
// back, timings, the error). A timeout, 429, 5xx or broken stream is retried with exponential
// backoff while the retry window lasts; anything else fails at once.

export interface RetryPolicy {
	/** Time allowed for one attempt. */
	timeoutMs: number;
	/** No new attempt starts after this long. */
	retryWindowMs: number;
	/** Backoff before attempt k+1 is baseDelayMs·2^(k−1), at most 8 s. */
	baseDelayMs?: number;
}

export type CallOutcome =
	| { ok: true; result: ChatResult; callId: number; attempts: number }
	| { ok: false; error: ProviderError; attempts: number };

export interface CallHooks {
	onDelta?: (text: string) => void;
	/** An attempt failed and another follows: text streamed so far is void. */
	onRetry?: (attempt: number, error: ProviderError) => void;
	/** The row of the first attempt when the caller already logged it (the in-flight claim). */
	firstCallId?: number;
	/**
	 * Records a successful attempt in place of finishCall, so a caller can store what the reply
	 * produced in the same statement (the chat stores the message with it).
	 */
	finishSuccess?: (callId: number, end: CallEnd & { result: ChatResult }) => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks the provider for one reply, attempt after attempt. The row of the next attempt is written
 * before the backoff sleep, not after it: while a retry is pending, an unfinished attempt exists,
 * so a resend from another tab sees the reply in flight and is refused instead of starting a
 * second model call for the same turn. A Retry-After from the endpoint is honoured when it fits
 * in the retry window (else the reply fails now rather than after the window).
 */
export async function callWithRetries(
	db: Queryable,
	provider: Provider,
	request: ChatRequest,
	ctx: CallContext,
	policy: RetryPolicy,
	hooks: CallHooks = {}
): Promise<CallOutcome> {
	const began = performance.now();
	const base = policy.baseDelayMs ?? 500;
	const claim = (attempt: number) =>
		insertCall(db, ctx, { provider: provider.name, endpoint: provider.endpoint, request, attempt });
	let callId = hooks.firstCallId ?? (await claim(1));
	for (let attempt = 1; ; attempt++) {
		const started = performance.now();
		try {
			const result = await provider.complete(request, {
				signal: AbortSignal.timeout(policy.timeoutMs),
				onDelta: hooks.onDelta
			});
			// The reply exists now: a database outage at this moment must not lose it.
			const end = { result, latencyMs: performance.now() - started };
			const finish = hooks.finishSuccess ?? ((id, e) => finishCall(db, id, e));
			await whenDatabaseAnswers(() => finish(callId, end));
			return { ok: true, result, callId, attempts: attempt };
		} catch (e) {
			const error =
				e instanceof ProviderError
					? e
					: new ProviderError(e instanceof Error ? e.message : String(e), false);
			const backoff = Math.min(base * 2 ** (attempt - 1), 8000);
			const wait = Math.max(backoff, error.retryAfterMs ?? 0);
			const elapsed = performance.now() - began;
			const retry = error.retryable && elapsed + wait < policy.retryWindowMs;
			// The next attempt is claimed in the same breath as this one is closed.
			const next = retry ? await claim(attempt + 1) : undefined;
			await finishCall(db, callId, {
				error: error.message,
				latencyMs: performance.now() - started
			});
			if (next === undefined) return { ok: false, error, attempts: attempt };
			callId = next;
			hooks.onRetry?.(attempt, error);
			await sleep(wait);
		}
	}
}
