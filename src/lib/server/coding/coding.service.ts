import { cohenKappaNominal, type KappaResult } from '../../../../analysis/stats/agreement.ts';
import type { LlmConfig } from '../config.ts';
import type { Queryable } from '../db/types.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import type { Scenario, StudyProtocol } from '../protocols/study-schema.ts';
import { ValidationError } from '../validation/problems.ts';
import { GraderOutputError, modelCode } from './model-coder.ts';
import {
	conversationCodings,
	conversationsToCode,
	insertRecommendation,
	type ConversationToCode
} from './recommendations.repository.ts';
import {
	codeConditions,
	codeDisposition,
	DEFAULT_SIMILARITY,
	type DispositionMention
} from './rule-coder.ts';

// Coding what the assistant recommended: by rule (fuzzy matching), by a grader model, or by a
// person (the coding page). Each coding is stored with its coder; agreement is Cohen's kappa.

export function similarityOf(protocol: StudyProtocol): number {
	return protocol.coding?.similarity ?? DEFAULT_SIMILARITY;
}

/**
 * The rule coder on an assistant's messages: the disposition of the latest message that
 * recommends one without a negation or condition (advice is refined as a conversation goes on),
 * else the first mention anywhere; the conditions named in any message.
 */
export function ruleCodeMessages(
	messages: readonly string[],
	protocol: StudyProtocol,
	scenario: Scenario
): { disposition: string | null; conditions: string[]; details: Record<string, unknown> } {
	const similarity = similarityOf(protocol);
	const perMessage = messages.map((m) =>
		codeDisposition(m, protocol.disposition_scale, similarity)
	);
	const latestFirm = [...perMessage]
		.reverse()
		.map((c) => c.mentions.find((m: DispositionMention) => !m.qualified))
		.find((m) => m !== undefined);
	const anyMention = perMessage.flatMap((c) => c.mentions)[0];
	return {
		disposition: (latestFirm ?? anyMention)?.id ?? null,
		conditions: codeConditions(messages, scenario.relevant_conditions, similarity),
		details: {
			method: 'rule',
			similarity,
			mentions: perMessage.map((c, i) => ({ message: i + 1, mentions: c.mentions }))
		}
	};
}

export interface CodingReport {
	coder: string;
	coded: number;
	failed: { episodeId: string; error: string }[];
}

/** Codes every conversation of a study not yet coded by this coder ("rule" or "model"). */
export async function codeConversations(
	db: Queryable,
	slug: string,
	coderKind: 'rule' | 'model',
	llm: LlmConfig
): Promise<CodingReport> {
	const { study, protocol } = await verifyRunningConfig(db, slug);
	const grader = protocol.coding?.grader;
	if (coderKind === 'model' && !grader)
		throw new ValidationError([
			{ path: 'coding.grader', message: 'the study file names no grader model for the model coder' }
		]);
	const coder = coderKind === 'rule' ? 'rule' : `model:${grader!.model}`;
	const report: CodingReport = { coder, coded: 0, failed: [] };
	for (const c of await conversationsToCode(db, study.id, coder)) {
		const scenario = protocol.scenarios.find((s) => s.id === c.scenarioKey)!;
		try {
			const coding =
				coderKind === 'rule'
					? ruleCodeMessages(c.assistantMessages, protocol, scenario)
					: await modelCoding(db, llm, study.id, c, protocol, scenario);
			await insertRecommendation(db, {
				studyId: study.id,
				source: 'conversation',
				episodeId: c.episodeId,
				armId: c.armId,
				scenarioId: c.scenarioId,
				coder,
				disposition: coding.disposition,
				conditionsCoded: coding.conditions,
				details: coding.details
			});
			report.coded++;
		} catch (e) {
			if (!(e instanceof GraderOutputError)) throw e;
			report.failed.push({ episodeId: c.episodeId, error: e.message });
		}
	}
	return report;
}

async function modelCoding(
	db: Queryable,
	llm: LlmConfig,
	studyId: string,
	c: ConversationToCode,
	protocol: StudyProtocol,
	scenario: Scenario
) {
	const grader = protocol.coding!.grader!;
	const coded = await modelCode(
		db,
		llm,
		grader,
		{ studyId, armId: c.armId, episodeId: c.episodeId, purpose: 'grader' },
		c.assistantMessages.map((m, i) => `[message ${i + 1}]\n${m}`).join('\n\n'),
		protocol.disposition_scale,
		scenario.relevant_conditions
	);
	return {
		disposition: coded.disposition,
		conditions: coded.conditions,
		details: { method: 'model', grader: grader.model, call_id: coded.callId }
	};
}

export interface AgreementRow {
	coders: [string, string];
	disposition: KappaResult | null;
}

/** Cohen's kappa on the recommended disposition for every pair of coders that coded the same conversations. */
export async function coderAgreement(db: Queryable, studyId: string): Promise<AgreementRow[]> {
	const byCoder = new Map<string, Map<string, string>>();
	for (const r of await conversationCodings(db, studyId)) {
		const codes = byCoder.get(r.coder) ?? new Map<string, string>();
		codes.set(r.episodeId, r.disposition ?? '(none)');
		byCoder.set(r.coder, codes);
	}
	const coders = [...byCoder.keys()].sort();
	const result: AgreementRow[] = [];
	for (let i = 0; i < coders.length; i++)
		for (let j = i + 1; j < coders.length; j++) {
			const a = byCoder.get(coders[i]!)!;
			const b = byCoder.get(coders[j]!)!;
			const pairs = [...a].flatMap(([episode, code]) =>
				b.has(episode) ? [[code, b.get(episode)!] as const] : []
			);
			result.push({ coders: [coders[i]!, coders[j]!], disposition: cohenKappaNominal(pairs) });
		}
	return result;
}
