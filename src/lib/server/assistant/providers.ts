import type { LlmConfig, LlmEndpoint } from '../config.ts';
import { OpenAiCompatibleProvider } from './openai-provider.ts';
import type { AssistantConfig, ChatMessage, ChatRequest, Provider } from './provider.ts';
import { ScriptedProvider } from './scripted-provider.ts';

export class EndpointNotConfiguredError extends Error {}

/** Environment variable that configures an endpoint, for messages that tell people what to set. */
export function endpointVariable(endpoint: string): string {
	return endpoint === 'default'
		? 'BEDSIDE_LLM_BASE_URL'
		: `BEDSIDE_LLM_${endpoint.toUpperCase()}_BASE_URL`;
}

/** The provider an arm's pinned configuration names. */
export function providerFor(config: AssistantConfig, llm: LlmConfig): Provider {
	if (config.provider === 'scripted') return new ScriptedProvider(config);
	return openAiProvider(config.endpoint ?? 'default', llm);
}

export function openAiProvider(endpoint: string, llm: LlmConfig): Provider {
	const configured = llm.endpoints[endpoint];
	if (!configured)
		throw new EndpointNotConfiguredError(
			`the LLM endpoint "${endpoint}" is not configured: set ${endpointVariable(endpoint)}`
		);
	// One client per configured endpoint, reused: its HTTP connections are kept alive between chats.
	let provider = clients.get(configured);
	if (!provider) clients.set(configured, (provider = new OpenAiCompatibleProvider(configured)));
	return provider;
}

const clients = new WeakMap<LlmEndpoint, OpenAiCompatibleProvider>();

/** The request an arm's pinned parameters make of a conversation so far. */
export function chatRequest(
	config: AssistantConfig,
	conversation: { role: 'user' | 'assistant'; content: string }[]
): ChatRequest {
	const messages: ChatMessage[] = [
		...(config.system_prompt.trim()
			? [{ role: 'system' as const, content: config.system_prompt }]
			: []),
		// Only role and content: stored rows carry ids and times the endpoint must not see.
		...conversation.map(({ role, content }) => ({ role, content }))
	];
	if (config.provider === 'scripted')
		return { model: config.model, messages, max_tokens: config.max_tokens };
	return {
		model: config.model,
		messages,
		temperature: config.temperature,
		top_p: config.top_p,
		...(config.seed !== undefined && { seed: config.seed }),
		max_tokens: config.max_tokens
	};
}
