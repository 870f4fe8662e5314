import {
	approximateTokens,
	ProviderError,
	type AssistantConfig,
	type AttemptOptions,
	type ChatRequest,
	type ChatResult,
	type Provider
} from './provider.ts';

type ScriptedConfig = Extract<AssistantConfig, { provider: 'scripted' }>;

/** Labelled wherever a scripted arm is shown: it is a script, not an LLM. */
export const SCRIPTED_LABEL = 'scripted, not an LLM';

/**
 * Deterministic replies for demos and pilot sessions: the first script entry whose `when` pattern
 * matches the participant's latest message (or that has no pattern), skipping a general reply
 * already given in this conversation while another remains (so a follow-up question is not asked
 * twice). Streamed word by word so the page behaves as it does with a real model.
 */
export class ScriptedProvider implements Provider {
	readonly name = 'scripted';
	readonly endpoint = SCRIPTED_LABEL;

	constructor(private readonly config: ScriptedConfig) {}

	reply(latest: string, given: readonly string[] = []): string {
		const matching = this.config.script.filter(
			(s) => s.when === undefined || new RegExp(s.when, 'iu').test(latest)
		);
		// A pattern's reply (e.g. the emergency advice) is given every time it matches; a general
		// reply already given is skipped for the next one.
		const entry =
			matching.find((s) => s.when !== undefined || !given.includes(s.reply)) ?? matching.at(-1);
		return entry?.reply ?? "I'm sorry, I can't help with that. Please make your own decision.";
	}

	async complete(request: ChatRequest, options: AttemptOptions): Promise<ChatResult> {
		if (options.signal.aborted) throw new ProviderError('the attempt was cancelled', true);
		const latest = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
		const given = request.messages.filter((m) => m.role === 'assistant').map((m) => m.content);
		const content = this.reply(latest, given);
		for (const piece of content.match(/\S+\s*/g) ?? [content]) options.onDelta?.(piece);
		return {
			content,
			modelReturned: this.config.model,
			systemFingerprint: 'scripted',
			tokensIn: request.messages.reduce((n, m) => n + approximateTokens(m.content), 0),
			tokensOut: approximateTokens(content),
			finishReason: 'stop',
			timeToFirstTokenMs: 0
		};
	}
}
