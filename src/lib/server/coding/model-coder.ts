import { z } from 'zod';
import type { LlmConfig } from '../config.ts';
import type { Queryable } from '../db/types.ts';
import type { CallContext } from '../assistant/assistant.repository.ts';
import { callWithRetries } from '../assistant/calls.ts';
import type { ChatRequest } from '../assistant/provider.ts';
import { openAiProvider } from '../assistant/providers.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import type { ConditionDef, DispositionDef } from './rule-coder.ts';

// The model coder: a grader model reads what the assistant said and returns, as structured output
// (a JSON Schema the endpoint enforces), the disposition it recommended and the conditions it
// named, from the study's own lists. Every grader call is logged like any other.

export type Grader = NonNullable<NonNullable<StudyProtocol['coding']>['grader']>;

const DEFAULT_INSTRUCTIONS =
	'You code what a health assistant recommended. Read its messages and answer with the one ' +
	'disposition it recommended (null if it recommended none) and the conditions it named as ' +
	'possible causes, using only the ids given.';

export function graderRequest(
	grader: Grader,
	text: string,
	scale: readonly DispositionDef[],
	conditions: readonly ConditionDef[]
): ChatRequest {
	const lists =
		`Dispositions (id: meaning):\n${scale.map((d) => `- ${d.id}: ${d.label}`).join('\n')}\n\n` +
		`Conditions (id: name; synonyms):\n${conditions
			.map((c) => `- ${c.id}: ${c.name}${c.synonyms.length ? `; ${c.synonyms.join(', ')}` : ''}`)
			.join('\n')}`;
	return {
		model: grader.model,
		temperature: 0,
		max_tokens: 400,
		messages: [
			{ role: 'system', content: `${grader.instructions ?? DEFAULT_INSTRUCTIONS}\n\n${lists}` },
			{ role: 'user', content: `The assistant's messages:\n\n${text}` }
		],
		response_format: {
			type: 'json_schema',
			json_schema: {
				name: 'recommendation',
				strict: true,
				schema: {
					type: 'object',
					additionalProperties: false,
					required: ['disposition', 'conditions'],
					properties: {
						disposition: { type: ['string', 'null'], enum: [...scale.map((d) => d.id), null] },
						conditions: {
							type: 'array',
							items: { type: 'string', enum: conditions.map((c) => c.id) }
						}
					}
				}
			}
		}
	};
}

export class GraderOutputError extends Error {}

/** Parses and checks a grader's reply against the study's lists. */
export function parseGraderReply(
	content: string,
	scale: readonly DispositionDef[],
	conditions: readonly ConditionDef[]
): { disposition: string | null; conditions: string[] } {
	let json: unknown;
	try {
		json = JSON.parse(content);
	} catch {
		throw new GraderOutputError(`the grader's reply is not JSON: ${content.slice(0, 120)}`);
	}
	const shape = z.strictObject({
		disposition: z.enum(scale.map((d) => d.id) as [string, ...string[]]).nullable(),
		conditions: z.array(z.enum(conditions.map((c) => c.id) as [string, ...string[]]))
	});
	const parsed = shape.safeParse(json);
	if (!parsed.success)
		throw new GraderOutputError(
			`the grader's reply does not follow the schema: ${parsed.error.issues[0]?.message}`
		);
	return { disposition: parsed.data.disposition, conditions: [...new Set(parsed.data.conditions)] };
}

/** Codes one text with the grader model; throws GraderOutputError or returns the coding. */
export async function modelCode(
	db: Queryable,
	llm: LlmConfig,
	grader: Grader,
	ctx: CallContext,
	text: string,
	scale: readonly DispositionDef[],
	conditions: readonly ConditionDef[]
): Promise<{ disposition: string | null; conditions: string[]; callId: number }> {
	const provider = openAiProvider(grader.endpoint ?? 'default', llm);
	const outcome = await callWithRetries(
		db,
		provider,
		graderRequest(grader, text, scale, conditions),
		{ ...ctx, purpose: 'grader' },
		{ timeoutMs: 60_000, retryWindowMs: llm.retryWindowMs }
	);
	if (!outcome.ok) throw new GraderOutputError(`the grader failed: ${outcome.error.message}`);
	return { ...parseGraderReply(outcome.result.content, scale, conditions), callId: outcome.callId };
}
