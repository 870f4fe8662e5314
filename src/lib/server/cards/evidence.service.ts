import { evidenceFromAnalysis } from '../../../../analysis/evidence.ts';
import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { sha256Hex } from '../protocols/hash.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { assumptionsOfStudy, replaceStudyEvidence } from './cards.repository.ts';
import type { AnalysisResult } from '../../../../analysis/result.ts';

// Writes a study's estimates back as evidence on the card assumptions it is linked to, so the
// registry answers "was this assumption tested, where, and did it hold?". One transaction: the
// study's earlier evidence on those assumptions is replaced, and the write is audited with the
// analysis's SHA-256 (the analysis JSON is reproducible from the export and the seed).

export class EvidenceError extends Error {}

export async function writeStudyEvidence(
	db: Queryable,
	slug: string,
	analysis: AnalysisResult,
	actor: Actor
): Promise<{ written: number; assumptions: string[]; analysisSha256: string }> {
	return inTransaction(db, async (trx) => {
		const study = await findStudyBySlug(trx, slug);
		if (!study) throw new EvidenceError(`no study "${slug}"`);
		// The cards are public: an interim, unblinded estimate must not reach them while the study
		// still recruits (it could steer recruitment, or be read as the result).
		if (study.status !== 'closed')
			throw new EvidenceError(
				`"${slug}" is ${study.status}: evidence is written to the public cards once the study is closed`
			);
		const linked = await assumptionsOfStudy(trx, study.id);
		if (linked.length === 0)
			throw new EvidenceError(
				`"${slug}" is not linked to any card assumption (add tests_assumptions to the protocol)`
			);
		const items = evidenceFromAnalysis(analysis);
		const evidence = linked.flatMap((assumption) =>
			items
				.filter((i) => i.assumption === assumption.key)
				.map((i) => ({
					assumptionId: assumption.id,
					estimate: i.estimate,
					value: i.value,
					ciLow: i.ci?.[0] ?? null,
					ciHigh: i.ci?.[1] ?? null
				}))
		);
		// The SHA-256 of the analysis JSON exactly as `bedside analyze` and analysis.json write it.
		const analysisSha256 = sha256Hex(`${JSON.stringify(analysis, null, 2)}\n`);
		await replaceStudyEvidence(
			trx,
			study.id,
			linked.map((a) => a.id),
			evidence,
			analysisSha256
		);
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id ?? null,
			studyId: study.id,
			action: 'evidence.written',
			target: slug,
			details: {
				analysis_sha256: analysisSha256,
				rows: evidence.length,
				assumptions: linked.map((a) => `${a.cardSlug}.${a.key}`)
			}
		});
		return {
			written: evidence.length,
			assumptions: linked.map((a) => `${a.cardSlug}.${a.key}`),
			analysisSha256
		};
	});
}
