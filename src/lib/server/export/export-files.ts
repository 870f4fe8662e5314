import { columnNames, type ExportFileName } from '../../../../analysis/io/columns.ts';
import { deviationsOf } from '../assistant/assistant.repository.ts';
import type { Queryable } from '../db/types.ts';
import { bool, csvLine, formulaCells, iso, list, type Cell } from './csv.ts';
import {
	episodePages,
	followUpPages,
	measurePages,
	messageFormulaCells,
	messagePages,
	messagesCopyQuery,
	participantPages,
	recommendationPages
} from './export.repository.ts';
import type { ExportFile, ExportOptions, ExportReport } from './export.service.ts';
import { copyOutOf } from '../db/copy-out.ts';
import { emptyCounts, scrub } from './scrub.ts';
import { endingOf } from '../participants/endings.ts';

// The files of an export, one builder each. A writer holds what they share: the report they fill
// in (rows, scrubbed identifiers, quoted formula cells) and the options' treatment of text and
// formulas. Every CSV header is the column table's (analysis/io/columns.ts).

export interface ExportWriter {
	report: ExportReport;
	/** A CSV file from pages of rows; counts its rows in the report. */
	csv<T>(
		name: ExportFileName,
		pages: () => AsyncIterable<T[]>,
		toCells: (row: T) => Cell[]
	): ExportFile;
	/** Free text as the options say: left out, scrubbed, or as stored. */
	text(value: string | null | undefined): string;
	/**
	 * A CSV file whose rows PostgreSQL formats (COPY): the header from the column table, then the
	 * server's lines; `formulaCells` counts the cells the query neutralized, for the report.
	 */
	copied(
		name: ExportFileName,
		copy: { chunks: AsyncIterable<string>; rows: () => number },
		formulaCells: () => Promise<number>
	): ExportFile;
}

export function exportWriter(options: ExportOptions): ExportWriter {
	const report: ExportReport = { options, rows: {}, scrubbed: emptyCounts(), formulaCells: 0 };
	const neutralize = options.raw !== true;
	const line = (cells: Cell[]) => {
		if (neutralize) report.formulaCells += formulaCells(cells);
		return csvLine(cells, neutralize);
	};
	return {
		report,
		text: (value) =>
			!options.freeText ? '' : options.scrub ? scrub(value ?? '', report.scrubbed) : (value ?? ''),
		copied: (name, copy, formulaCells) => ({
			name,
			content: async function* () {
				report.rows[name] = 0;
				yield csvLine(columnNames(name));
				yield* copy.chunks;
				report.rows[name] = copy.rows();
				// Awaited before the sum is read: files written side by side add to it meanwhile.
				const quoted = neutralize ? await formulaCells() : 0;
				report.formulaCells += quoted;
			}
		}),
		csv: (name, pages, toCells) => ({
			name,
			content: async function* () {
				const header = columnNames(name);
				report.rows[name] = 0;
				yield csvLine(header);
				for await (const page of pages()) {
					report.rows[name] += page.length;
					yield page
						.map((r) => {
							const cells = toCells(r);
							// A builder out of step with the column table is a bug: never write a ragged file.
							if (cells.length !== header.length)
								throw new Error(
									`${name}: ${cells.length} cells for ${header.length} columns (analysis/io/columns.ts)`
								);
							return line(cells);
						})
						.join('');
				}
			}
		})
	};
}

/** A JSON file, produced when it is read. */
export function jsonFile(name: string, produce: () => unknown): ExportFile {
	return {
		name,
		content: async function* () {
			yield `${JSON.stringify(await produce(), null, 2)}\n`;
		}
	};
}

const STATUS: Record<string, string> = {
	consented: 'consented',
	allocated: 'allocated',
	in_progress: 'in_progress',
	completed: 'completed',
	withdrawn: 'withdrawn',
	excluded: 'excluded',
	ineligible: 'excluded'
};

export const participantsFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'participants.csv',
		() => participantPages(db, studyId),
		(p) => [
			p.id,
			p.arm_key,
			p.stratum,
			STATUS[p.status] ?? p.status,
			iso(p.consented_at),
			iso(p.allocated_at),
			iso(p.completed_at),
			p.status === 'ineligible' ? 'ineligible at screening' : p.exclusion_reason,
			endingOf(p.status, Boolean(p.failed_attention))
		]
	);

export const followUpsFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'follow_ups.csv',
		() => followUpPages(db, studyId),
		(r) => [
			r.participant_id,
			r.follow_up,
			iso(r.answered_at),
			Math.round(r.days_since_completion * 1000) / 1000
		]
	);

export const episodesFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'episodes.csv',
		() => episodePages(db, studyId),
		(e) => {
			const submitted = e.disposition !== null;
			return [
				e.participant_id,
				e.episode,
				e.scenario_key,
				e.disposition,
				submitted ? bool(e.disposition === e.correct_disposition) : '',
				submitted ? list((e.conditions_text ?? []).map((t) => w.text(t))).replace(/^;+$/, '') : '',
				submitted ? list(e.conditions_coded) : '',
				submitted ? bool((e.conditions_coded ?? []).length > 0) : '',
				iso(e.started_at),
				iso(e.submitted_at),
				e.initial_disposition,
				e.initial_disposition === null ? '' : bool(e.initial_disposition === e.correct_disposition),
				e.user_messages,
				e.pasted_chars,
				e.hidden_events,
				Math.round(e.typing_seconds * 10) / 10,
				e.assist_seconds === null ? '' : Math.round(e.assist_seconds * 10) / 10
			];
		}
	);

export const measuresFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'measures.csv',
		() => measurePages(db, studyId),
		(m) => [
			m.participant_id,
			m.episode,
			m.measure,
			m.kind,
			m.value_numeric ?? m.value_text,
			iso(m.recorded_at)
		]
	);

export const recommendationsFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'recommendations.csv',
		() => recommendationPages(db, studyId),
		(r) => [
			r.source,
			r.participant_id,
			r.episode,
			r.run_id,
			r.arm_key,
			r.scenario_key,
			r.coder,
			r.disposition,
			bool(r.disposition === r.correct_disposition),
			list(r.conditions_coded),
			bool(r.conditions_coded.length > 0),
			r.mode,
			r.repeat
		]
	);

export const messagesFile = (
	w: ExportWriter,
	db: Queryable,
	studyId: string,
	options: ExportOptions
) => {
	// On PostgreSQL the server formats the messages (the bulk of an export); scrubbing free text
	// is Bedside's own, so a scrubbed export reads pages as before.
	const copy = copyOutOf(db);
	if (copy && !options.scrub) {
		const neutralize = options.raw !== true;
		return w.copied(
			'messages.csv',
			copy(messagesCopyQuery(studyId, { freeText: options.freeText, neutralize })),
			() => messageFormulaCells(db, studyId, options.freeText)
		);
	}
	return w.csv(
		'messages.csv',
		() => messagePages(db, studyId),
		(m) => [
			m.participant_id,
			m.episode,
			m.turn,
			m.role,
			w.text(m.content),
			iso(m.created_at),
			m.model_returned,
			m.latency_ms,
			m.tokens_in,
			m.tokens_out
		]
	);
};

export const deviationsFile = (w: ExportWriter, db: Queryable, studyId: string) =>
	w.csv(
		'deviations.csv',
		async function* () {
			yield await deviationsOf(db, studyId);
		},
		(d) => [
			d.kind,
			d.armKey,
			d.participantId,
			d.episode,
			iso(d.createdAt),
			JSON.stringify(d.details)
		]
	);
