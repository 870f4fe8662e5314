import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { ValidationError } from '../validation/problems.ts';
import { externalIdHash } from './entry.service.ts';
import { participantsByExternalHashes } from './participants.repository.ts';
import { endingOf, type Ending } from './endings.ts';
import { followUpLinksOf } from '../follow-ups/follow-up-links.ts';
import { protocolOf } from './participant-view.ts';

// Bedside never stores a panel id, only its keyed hash, so the export cannot be matched to the
// panel's submissions by itself. The owner pastes the panel's list of ids (Prolific's submissions
// export, or one id per line); each is hashed as consent hashed it and looked up. What comes back
// is what the owner needs to approve, reject or pay in bulk: each id's ending and the
// participant id used in the export. Audited: how many ids, how many matched.

export type PanelEnding = Ending | 'no record';

export interface PanelMatch {
	panelId: string;
	participantId: string | null;
	ending: PanelEnding;
	completionCode: string | null;
	completedAt: string | null;
	/** Personal follow-up links (paths) of a participant who completed, to message them. */
	followUps: string[];
}

const MAX_IDS = 20_000;

/**
 * The panel ids in a pasted text: one per line, or a CSV whose header names the id column
 * ("participant_id", "Participant id", "PROLIFIC_PID"); blank lines and duplicates ignored.
 */
export function panelIdsOf(text: string): string[] {
	const lines = text
		.replace(/\r\n?/g, '\n')
		.split('\n')
		.map((l) => l.trim())
		.filter(Boolean);
	if (lines.length === 0) return [];
	const header = lines[0]!.split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
	const column = header.findIndex((h) =>
		['participant_id', 'participant id', 'prolific_pid', 'panel_id', 'pid'].includes(h)
	);
	const ids =
		column >= 0
			? lines.slice(1).map((l) => (l.split(',')[column] ?? '').trim().replace(/^"|"$/g, ''))
			: lines;
	return [...new Set(ids.filter((id) => id.length > 0))];
}

export async function matchPanelIds(
	db: Queryable,
	slug: string,
	text: string,
	actor: Actor
): Promise<PanelMatch[]> {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	const ids = panelIdsOf(text);
	if (ids.length === 0)
		throw new ValidationError([{ path: 'ids', message: 'paste at least one panel id' }]);
	if (ids.length > MAX_IDS)
		throw new ValidationError([
			{ path: 'ids', message: `at most ${MAX_IDS} ids at once (got ${ids.length})` }
		]);
	const tooLong = ids.findIndex((id) => id.length > 200);
	if (tooLong >= 0)
		throw new ValidationError([
			{ path: 'ids', message: `line ${tooLong + 1}: a panel id has at most 200 characters` }
		]);
	const hashes = new Map<string, string>();
	for (const id of ids) hashes.set(await externalIdHash(db, slug, id), id);
	const found = new Map(
		(await participantsByExternalHashes(db, study.id, [...hashes.keys()])).map((p) => [
			p.externalIdHash,
			p
		])
	);
	const matches: PanelMatch[] = [];
	for (const [hash, panelId] of hashes) {
		const p = found.get(hash);
		matches.push({
			panelId,
			participantId: p?.id ?? null,
			ending: p ? endingOf(p.status, p.failedAttention) : 'no record',
			completionCode: p?.completionCode ?? null,
			completedAt: p?.completedAt?.toISOString() ?? null,
			followUps: p ? (await followUpLinksOf(db, await protocolOf(db, p), p)).map((f) => f.path) : []
		});
	}
	await recordAuditEvent(db, {
		actorKind: actor.kind,
		actorId: actor.id,
		studyId: study.id,
		action: 'panel.match',
		target: slug,
		details: { ids: ids.length, matched: found.size }
	});
	return matches;
}

/** The matches as CSV (for the panel's bulk tools); panel ids are quoted against formulas. */
export function panelMatchCsv(matches: PanelMatch[], origin: string): string {
	const cell = (v: string | null) => {
		const s = v ?? '';
		const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
		return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
	};
	return [
		'panel_id,participant_id,ending,completion_code,completed_at,follow_up_links',
		...matches.map((m) =>
			[
				m.panelId,
				m.participantId,
				m.ending,
				m.completionCode,
				m.completedAt,
				m.followUps.map((path) => `${origin}${path}`).join(';')
			]
				.map(cell)
				.join(',')
		)
	].join('\n');
}
