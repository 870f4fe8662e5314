import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { inTransaction, type Queryable } from '../db/types.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { ValidationError, type Problem } from '../validation/problems.ts';
import {
	existingMeasures,
	insertImportedMeasures,
	participantEpisodes,
	type ImportedMeasure
} from './outcomes.repository.ts';

// Outcome import: a CSV of later clinical outcomes or proxy measures keyed by participant (and
// episode), e.g. from follow-up. Checked in full first (every problem with its row number), then
// applied all-or-nothing in one transaction, with an audit entry. Values are write-once: a
// measure a participant already has is an error, never an overwrite.

export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 200_000;

/** The outcomes of the protocol that arrive by import (declared with `source: import`). */
export function importableOutcomes(protocol: StudyProtocol) {
	return protocol.outcomes.filter(
		(o): o is typeof o & { kind: 'clinical' | 'proxy' } => o.source === 'import'
	);
}

export interface ImportResult {
	imported: number;
	measures: Record<string, number>;
	sha256: string;
}

/** Problems with the file as a whole: not CSV, a required column missing, too many rows. */
function structuralProblems(parsed: Papa.ParseResult<Record<string, string>>): Problem[] {
	const header = parsed.meta.fields ?? [];
	const problems: Problem[] = parsed.errors
		.slice(0, 20)
		.map((e) => ({ path: `row ${(e.row ?? 0) + 2}`, message: `is not valid CSV: ${e.message}` }));
	for (const column of ['participant_id', 'measure', 'value'])
		if (!header.includes(column))
			problems.push({
				path: `column ${column}`,
				message:
					'is missing (the header row needs participant_id, measure, value and optionally episode)'
			});
	if (parsed.data.length > MAX_IMPORT_ROWS)
		problems.push({
			path: 'file',
			message: `has ${parsed.data.length} rows; at most ${MAX_IMPORT_ROWS}`
		});
	return problems;
}

/** Each row checked (participant, episode, measure, value, duplicates, write-once); the good ones. */
function checkedRows(
	data: Record<string, string>[],
	known: {
		episodes: Awaited<ReturnType<typeof participantEpisodes>>;
		existing: Awaited<ReturnType<typeof existingMeasures>>;
		outcomes: Map<string, ReturnType<typeof importableOutcomes>[number]>;
		now: Date;
	},
	problems: Problem[]
): ImportedMeasure[] {
	const { episodes, existing, outcomes, now } = known;
	const seen = new Map<string, number>();
	const rows: ImportedMeasure[] = [];
	data.forEach((r, i) => {
		const row = i + 2;
		const before = problems.length;
		const at = (column: string, message: string) =>
			problems.push({ path: `row ${row}, ${column}`, message });
		const participant = (r.participant_id ?? '').trim();
		const episodeText = (r.episode ?? '').trim();
		const measure = (r.measure ?? '').trim();
		const valueText = (r.value ?? '').trim();
		const ofParticipant = episodes.get(participant);
		if (!ofParticipant)
			at('participant_id', `unknown participant "${participant.slice(0, 60)}" in this study`);
		let episodeId: string | null = null;
		if (episodeText !== '') {
			const n = Number(episodeText);
			if (!Number.isInteger(n) || n < 1)
				at('episode', `must be a whole number ≥ 1 or empty (got "${episodeText.slice(0, 20)}")`);
			else if (ofParticipant) {
				episodeId = ofParticipant.get(n) ?? null;
				if (!episodeId) at('episode', `participant has no episode ${n}`);
			}
		}
		const outcome = outcomes.get(measure);
		if (!outcome)
			at(
				'measure',
				`"${measure.slice(0, 60)}" is not an outcome this study imports (${[...outcomes.keys()].join(', ') || 'none declared: add one with source: import to the protocol'})`
			);
		const value = Number(valueText);
		if (valueText === '' || !Number.isFinite(value))
			at('value', `must be a number (got "${valueText.slice(0, 20)}")`);
		else if (outcome?.kind === 'clinical' && value !== 0 && value !== 1)
			at('value', `a clinical outcome is 0 or 1 (got ${valueText})`);
		// Duplicates are only meaningful for rows whose participant, episode and measure are valid.
		const key = `${participant}|${episodeId ?? ''}|${measure}`;
		if (problems.length === before) {
			if (seen.has(key)) at('measure', `duplicate of row ${seen.get(key)}`);
			else seen.set(key, row);
			if (existing.has(key))
				at('measure', 'this participant already has this outcome; values are write-once');
		}
		if (problems.length === before && outcome)
			rows.push({
				participantId: participant,
				episodeId,
				measure,
				kind: outcome.kind,
				value,
				at: now
			});
	});
	return rows;
}

export async function importOutcomes(
	db: Queryable,
	slug: string,
	csvText: string,
	actor: Actor,
	now: Date = new Date()
): Promise<ImportResult> {
	if (Buffer.byteLength(csvText) > MAX_IMPORT_BYTES)
		throw new ValidationError([
			{ path: 'file', message: `is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB` }
		]);
	const { study, preregistration, protocol } = await verifyRunningConfig(db, slug);
	const outcomes = new Map(importableOutcomes(protocol).map((o) => [o.name, o]));
	const parsed = Papa.parse<Record<string, string>>(csvText.replace(/^\uFEFF/, ''), {
		header: true,
		skipEmptyLines: true
	});
	const problems = structuralProblems(parsed);
	if (problems.length > 0) throw new ValidationError(problems);

	const episodes = await participantEpisodes(db, study.id);
	const existing = await existingMeasures(db, study.id, [...outcomes.keys()]);
	const rows = checkedRows(parsed.data, { episodes, existing, outcomes, now }, problems);
	if (problems.length > 0) throw new ValidationError(problems.slice(0, 200));
	const sha256 = createHash('sha256').update(csvText).digest('hex');
	const measures: Record<string, number> = {};
	for (const r of rows) measures[r.measure] = (measures[r.measure] ?? 0) + 1;
	await inTransaction(db, async (trx) => {
		await insertImportedMeasures(trx, rows);
		await recordAuditEvent(trx, {
			actorKind: actor.kind,
			actorId: actor.id,
			studyId: study.id,
			protocolVersionId: preregistration.protocolVersionId,
			action: 'outcomes.import',
			target: slug,
			details: { rows: rows.length, measures, sha256 }
		});
	});
	return { imported: rows.length, measures, sha256 };
}
