import OpenAI from 'openai';
import type { LlmEndpoint } from '../config.ts';
import {
	ProviderError,
	type AttemptOptions,
	type ChatRequest,
	type ChatResult,
	type Provider
} from './provider.ts';

/**
 * Chat completions on any OpenAI-compatible endpoint (hosted APIs, vLLM, Ollama, llama.cpp
 * server), streamed. The official client does the HTTP and SSE parsing; its own retries are off
 * because every attempt must be logged (calls.ts retries).
 */
export class OpenAiCompatibleProvider implements Provider {
	readonly name = 'openai-compatible';
	readonly endpoint: string;
	private readonly client: OpenAI;

	constructor(endpoint: LlmEndpoint) {
		this.endpoint = endpoint.baseUrl;
		this.client = new OpenAI({
			baseURL: endpoint.baseUrl,
			// Local servers take any key; the client insists on one.
			apiKey: endpoint.apiKey ?? 'no-key',
			maxRetries: 0,
			timeout: 10 * 60 * 1000,
			logLevel: 'off'
		});
	}

	async complete(request: ChatRequest, options: AttemptOptions): Promise<ChatResult> {
		const started = performance.now();
		let content = '';
		let firstTokenAt: number | null = null;
		let finishReason: string | null = null;
		let modelReturned: string | null = null;
		let systemFingerprint: string | null = null;
		let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
		try {
			const stream = await this.client.chat.completions.create(
				{ ...request, stream: true, stream_options: { include_usage: true } },
				{ signal: options.signal }
			);
			for await (const chunk of stream) {
				modelReturned ??= chunk.model ?? null;
				systemFingerprint ??= chunk.system_fingerprint ?? null;
				if (chunk.usage) usage = chunk.usage;
				const choice = chunk.choices[0];
				const delta = choice?.delta?.content;
				if (delta) {
					firstTokenAt ??= performance.now();
					// max_tokens is a request the endpoint may ignore: past the cap the reply is cut
					// here, and the call says so (the chat records a deviation).
					const room = maxReplyChars(request.max_tokens) - content.length;
					const piece = delta.slice(0, Math.max(0, room));
					content += piece;
					if (piece) options.onDelta?.(piece);
					if (piece.length < delta.length) {
						finishReason = TRUNCATED;
						break;
					}
				}
				if (choice?.finish_reason) finishReason = choice.finish_reason;
			}
		} catch (error) {
			throw asProviderError(error, options.signal);
		}
		// The client ends the stream quietly when it is aborted; a stream without a finish reason
		// was cut off.
		if (options.signal.aborted) throw new ProviderError('timed out', true);
		if (finishReason === null)
			throw new ProviderError('the stream ended before the reply did', true);
		return {
			content,
			modelReturned,
			systemFingerprint,
			tokensIn: usage?.prompt_tokens ?? null,
			tokensOut: usage?.completion_tokens ?? null,
			finishReason,
			timeToFirstTokenMs: firstTokenAt === null ? null : Math.round(firstTokenAt - started)
		};
	}
}

/** The finish reason of a reply cut at the size cap. */
export const TRUNCATED = 'truncated_by_bedside';

/** The longest reply kept: generous for the arm's max_tokens (about 4 characters a token, ×4). */
export function maxReplyChars(maxTokens: number | undefined): number {
	return Math.min(200_000, Math.max(4_000, (maxTokens ?? 1_000) * 16));
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds, if there is a usable one. */
export function retryAfterMs(
	value: string | null | undefined,
	now = Date.now()
): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function asProviderError(error: unknown, signal: AbortSignal): ProviderError {
	if (signal.aborted) return new ProviderError('timed out', true);
	if (error instanceof OpenAI.APIConnectionError)
		return new ProviderError(`could not reach the endpoint (${error.message})`, true);
	if (error instanceof OpenAI.APIError) {
		const status = error.status;
		const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
		return new ProviderError(
			`the endpoint answered ${status ?? 'with an error'}: ${firstLine(error.message)}`,
			retryable,
			status,
			retryAfterMs(error.headers?.get?.('retry-after'))
		);
	}
	if (error instanceof SyntaxError)
		return new ProviderError(`the endpoint sent malformed JSON (${error.message})`, true);
	// A connection dropped mid-stream surfaces as a fetch TypeError ("terminated").
	return new ProviderError(
		`the stream broke: ${firstLine(error instanceof Error ? error.message : String(error))}`,
		true
	);
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);
