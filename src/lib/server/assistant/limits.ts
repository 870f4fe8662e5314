import type { AssistantConfig } from './provider.ts';

// Defaults for assistant settings that are optional in the study file (added after the format's
// first release, so they have no schema default: a protocol locked before them must hash the same).

export const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_MAX_PARTICIPANT_TOKENS = 20_000;
/** The longest message a participant can send. */
export const MAX_MESSAGE_CHARS = 4000;

export interface AssistantLimits {
	maxTurns: number;
	maxTokens: number;
	maxParticipantTokens: number;
	budgetTokens: number | null;
	timeoutMs: number;
}

export function limitsOf(config: AssistantConfig): AssistantLimits {
	return {
		maxTurns: config.max_turns,
		maxTokens: config.max_tokens,
		maxParticipantTokens: config.max_participant_tokens ?? DEFAULT_MAX_PARTICIPANT_TOKENS,
		budgetTokens: config.budget_tokens ?? null,
		timeoutMs:
			(config.provider === 'openai-compatible'
				? (config.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS)
				: DEFAULT_TIMEOUT_SECONDS) * 1000
	};
}
