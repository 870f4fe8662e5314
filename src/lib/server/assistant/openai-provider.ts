import type { LlmEndpoint } from '../config.ts';
import { ChatCompletionsClient } from './chat-completions-http.ts';
import {
	ProviderError,
	type AttemptOptions,
	type ChatRequest,
	type ChatResult,
	type Provider
} from './provider.ts';

/**
 * Chat completions on any OpenAI-compatible endpoint (hosted APIs, vLLM, Ollama, llama.cpp
 * server), streamed (chat-completions-http.ts does the HTTP and the event stream). One attempt:
 * every attempt must be logged, so retries are the caller's (calls.ts).
 */
export class OpenAiCompatibleProvider implements Provider {
	readonly name = 'openai-compatible';
	readonly endpoint: string;
	private readonly client: ChatCompletionsClient;

	constructor(endpoint: LlmEndpoint) {
		this.endpoint = endpoint.baseUrl;
		this.client = new ChatCompletionsClient(endpoint);
	}

	async complete(request: ChatRequest, options: AttemptOptions): Promise<ChatResult> {
		const started = performance.now();
		// Filled in as the chunks arrive (an object: the callback writes it, the end reads it).
		const seen = {
			content: '',
			firstTokenAt: null as number | null,
			finishReason: null as string | null,
			model: null as string | null,
			fingerprint: null as string | null,
			usage: null as { prompt_tokens: number; completion_tokens: number } | null
		};
		const room = maxReplyChars(request.max_tokens);
		await this.client.stream(
			{ ...request, stream: true, stream_options: { include_usage: true } },
			options.signal,
			(chunk) => {
				seen.model ??= chunk.model ?? null;
				seen.fingerprint ??= chunk.system_fingerprint ?? null;
				if (chunk.usage) seen.usage = chunk.usage;
				const choice = chunk.choices?.[0];
				const delta = choice?.delta?.content;
				if (delta) {
					seen.firstTokenAt ??= performance.now();
					// max_tokens is a request the endpoint may ignore: past the cap the reply is cut
					// here, and the call says so (the chat records a deviation).
					const piece = delta.slice(0, Math.max(0, room - seen.content.length));
					seen.content += piece;
					if (piece) options.onDelta?.(piece);
					if (piece.length < delta.length) {
						seen.finishReason = TRUNCATED;
						return false;
					}
				}
				if (choice?.finish_reason) seen.finishReason = choice.finish_reason;
			}
		);
		// A stream without a finish reason was cut off.
		if (seen.finishReason === null)
			throw new ProviderError('the stream ended before the reply did', true);
		return {
			content: seen.content,
			modelReturned: seen.model,
			systemFingerprint: seen.fingerprint,
			tokensIn: seen.usage?.prompt_tokens ?? null,
			tokensOut: seen.usage?.completion_tokens ?? null,
			finishReason: seen.finishReason,
			timeToFirstTokenMs:
				seen.firstTokenAt === null ? null : Math.round(seen.firstTokenAt - started)
		};
	}
}

/** The finish reason of a reply cut at the size cap. */
export const TRUNCATED = 'truncated_by_bedside';

/** The longest reply kept: generous for the arm's max_tokens (about 4 characters a token, ×4). */
export function maxReplyChars(maxTokens: number | undefined): number {
	return Math.min(200_000, Math.max(4_000, (maxTokens ?? 1_000) * 16));
}
