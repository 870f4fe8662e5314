import type { StudyProtocol } from '../protocols/study-schema.ts';

// One interface for every assistant: an OpenAI-compatible endpoint or a deterministic script.
// A provider makes one attempt; retries, logging and deviations are the caller's (calls.ts).

export type AssistantConfig = NonNullable<StudyProtocol['arms'][number]['assistant']>;

export interface ChatMessage {
	role: 'system' | 'user' | 'assistant';
	content: string;
}

/** Exactly what is sent, and logged with the call. */
export interface ChatRequest {
	model: string;
	messages: ChatMessage[];
	temperature?: number;
	top_p?: number;
	seed?: number;
	max_tokens: number;
	/** Structured output (the model coder): a JSON Schema the reply must follow. */
	response_format?: {
		type: 'json_schema';
		json_schema: { name: string; schema: Record<string, unknown>; strict: boolean };
	};
}

export interface ChatResult {
	content: string;
	modelReturned: string | null;
	systemFingerprint: string | null;
	tokensIn: number | null;
	tokensOut: number | null;
	finishReason: string | null;
	timeToFirstTokenMs: number | null;
}

export interface AttemptOptions {
	signal: AbortSignal;
	/** Called with each piece of text as it streams in. */
	onDelta?: (text: string) => void;
}

export interface Provider {
	/** "openai-compatible" or "scripted", as logged in assistant_calls.provider. */
	readonly name: string;
	/** What the endpoint is (a base URL, never a key), for the call log. */
	readonly endpoint: string;
	complete(request: ChatRequest, options: AttemptOptions): Promise<ChatResult>;
}

/** A failed attempt. `retryable`: a timeout, a 429, a 5xx, a dropped or garbled stream. */
export class ProviderError extends Error {
	constructor(
		message: string,
		readonly retryable: boolean,
		readonly status?: number,
		/** How long the endpoint asked us to wait (a 429's or 503's Retry-After), if it said. */
		readonly retryAfterMs?: number
	) {
		super(message);
		this.name = 'ProviderError';
	}
}

/** A rough token count for text no endpoint counted (scripted replies): about four characters each. */
export function approximateTokens(text: string): number {
	return Math.max(1, Math.ceil(text.length / 4));
}
