import { columnNames } from '../../../../analysis/io/columns.ts';
import type { Actor } from '../actor.ts';
import { deviationsOf } from '../assistant/assistant.repository.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { codebookFor } from './codebook.ts';
import { bool, csvLine, formulaCells, iso, list, type Cell } from './csv.ts';
import {
	declinedCount,
	episodePages,
	measurePages,
	messagePages,
	participantPages,
	recommendationPages
} from './export.repository.ts';
import { emptyCounts, scrub, type ScrubCounts } from './scrub.ts';

// A study as the export format of docs/export-format.md: study.json, five CSV files,
// codebook.json, plus deviations.csv and export_report.json. Each file is produced page by page
// when it is written, so an export of any size streams in constant memory.

export const EXPORT_FORMAT = 'bedside-export/1';

export interface ExportOptions {
	/** Leave out free text (messages, typed conditions). */
	freeText: boolean;
	/** Replace emails, phone numbers and URLs in free text. */
	scrub: boolean;
	/**
	 * Leave text cells exactly as stored (for R or Python). By default a text cell that a
	 * spreadsheet would run as a formula gets a leading single quote (OWASP's CSV-injection rule).
	 */
	raw?: boolean;
}

export interface ExportFile {
	name: string;
	content: () => AsyncIterable<string>;
}

export interface StudyExportHandle {
	slug: string;
	files: ExportFile[];
	/** Filled in as the files are written. */
	report: {
		options: ExportOptions;
		rows: Record<string, number>;
		scrubbed: ScrubCounts;
		/** Text cells given a leading quote so no spreadsheet runs them as formulas. */
		formulaCells: number;
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

function studyJson(
	protocol: StudyProtocol,
	sha: { protocol: string; preregistration: string },
	enrolment: { declined: number }
): string {
	const proxyScales = new Map(
		[...protocol.questionnaires.per_episode, ...protocol.questionnaires.end_of_study].map((i) => [
			i.id,
			[i.scale.min, i.scale.max]
		])
	);
	return `${JSON.stringify(
		{
			format: EXPORT_FORMAT,
			study: {
				slug: protocol.slug,
				title: protocol.title,
				protocol_sha256: sha.protocol,
				preregistration_sha256: sha.preregistration
			},
			disposition_scale: protocol.disposition_scale.map((d) => d.id),
			arms: protocol.arms.map((a) => ({
				id: a.id,
				kind: a.kind,
				label: a.label,
				...(a.assistant && { model: a.assistant.model, provider: a.assistant.provider })
			})),
			scenarios: protocol.scenarios.map((s) => ({
				id: s.id,
				title: s.title,
				correct_disposition: s.correct_disposition,
				relevant_conditions: s.relevant_conditions
			})),
			outcomes: protocol.outcomes.map((o) => ({
				name: o.name,
				role: o.role,
				kind: o.kind,
				...(proxyScales.has(o.name) && { scale: proxyScales.get(o.name) })
			})),
			analysis_plan: protocol.analysis_plan,
			// Declining people are not exported, but CONSORT counts them among those assessed.
			enrolment
		},
		null,
		2
	)}\n`;
}

/**
 * The export of a preregistered study; nothing is read until a file's content is iterated. The
 * audit log records what it is for: a download or folder (`study.export`) or the data read by an
 * analysis in the app (`study.analyze`), which hands nothing out.
 */
export async function studyExport(
	db: Queryable,
	slug: string,
	options: ExportOptions,
	actor: Actor,
	purpose: 'export' | 'analysis' = 'export'
): Promise<StudyExportHandle> {
	const { study, preregistration, protocol } = await verifyRunningConfig(db, slug);
	await recordAuditEvent(db, {
		actorKind: actor.kind,
		actorId: actor.id,
		studyId: study.id,
		protocolVersionId: preregistration.protocolVersionId,
		action: purpose === 'export' ? 'study.export' : 'study.analyze',
		target: slug,
		details: { free_text: options.freeText, scrub: options.scrub, raw: options.raw === true }
	});
	const report: StudyExportHandle['report'] = {
		options,
		rows: {},
		scrubbed: emptyCounts(),
		formulaCells: 0
	};
	const neutralize = options.raw !== true;
	const line = (cells: Cell[]) => {
		if (neutralize) report.formulaCells += formulaCells(cells);
		return csvLine(cells, neutralize);
	};
	const text = (value: string | null | undefined): string =>
		!options.freeText ? '' : options.scrub ? scrub(value ?? '', report.scrubbed) : (value ?? '');

	/** A CSV file from pages of rows; counts its rows in the report. */
	function csv<T>(
		name: string,
		header: string[],
		pages: () => AsyncGenerator<T[]>,
		toCells: (row: T) => Cell[]
	): ExportFile {
		return {
			name,
			content: async function* () {
				report.rows[name] = 0;
				yield csvLine(header);
				for await (const page of pages()) {
					report.rows[name] += page.length;
					yield page.map((r) => line(toCells(r))).join('');
				}
			}
		};
	}

	const files: ExportFile[] = [
		{
			name: 'study.json',
			content: async function* () {
				yield studyJson(
					protocol,
					{ protocol: preregistration.protocolSha256, preregistration: preregistration.sha256 },
					{ declined: await declinedCount(db, study.id) }
				);
			}
		},
		csv(
			'participants.csv',
			columnNames('participants.csv'),
			() => participantPages(db, study.id),
			(p) => [
				p.id,
				p.arm_key,
				p.stratum,
				STATUS[p.status] ?? p.status,
				iso(p.consented_at),
				iso(p.allocated_at),
				iso(p.completed_at),
				p.status === 'ineligible' ? 'ineligible at screening' : p.exclusion_reason
			]
		),
		csv(
			'episodes.csv',
			columnNames('episodes.csv'),
			() => episodePages(db, study.id),
			(e) => {
				const submitted = e.disposition !== null;
				return [
					e.participant_id,
					e.episode,
					e.scenario_key,
					e.disposition,
					submitted ? bool(e.disposition === e.correct_disposition) : '',
					submitted ? list((e.conditions_text ?? []).map((t) => text(t))).replace(/^;+$/, '') : '',
					submitted ? list(e.conditions_coded) : '',
					submitted ? bool((e.conditions_coded ?? []).length > 0) : '',
					iso(e.started_at),
					iso(e.submitted_at)
				];
			}
		),
		csv(
			'measures.csv',
			columnNames('measures.csv'),
			() => measurePages(db, study.id),
			(m) => [
				m.participant_id,
				m.episode,
				m.measure,
				m.kind,
				m.value_numeric ?? m.value_text,
				iso(m.recorded_at)
			]
		),
		csv(
			'recommendations.csv',
			columnNames('recommendations.csv'),
			() => recommendationPages(db, study.id),
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
		),
		csv(
			'messages.csv',
			columnNames('messages.csv'),
			() => messagePages(db, study.id),
			(m) => [
				m.participant_id,
				m.episode,
				m.turn,
				m.role,
				text(m.content),
				iso(m.created_at),
				m.model_returned,
				m.latency_ms,
				m.tokens_in,
				m.tokens_out
			]
		),
		{
			name: 'deviations.csv',
			content: async function* () {
				const deviations = await deviationsOf(db, study.id);
				report.rows['deviations.csv'] = deviations.length;
				yield csvLine(columnNames('deviations.csv'));
				for (const d of deviations)
					yield line([
						d.kind,
						d.armKey,
						d.participantId,
						d.episode,
						iso(d.createdAt),
						JSON.stringify(d.details)
					]);
			}
		},
		{
			name: 'codebook.json',
			content: async function* () {
				yield `${JSON.stringify(codebookFor(protocol), null, 2)}\n`;
			}
		},
		{
			name: 'export_report.json',
			content: async function* () {
				yield `${JSON.stringify(
					{
						format: EXPORT_FORMAT,
						study: protocol.slug,
						exported_at: new Date().toISOString(),
						options: {
							free_text: options.freeText,
							scrub: options.scrub,
							formula_safe: neutralize
						},
						rows: report.rows,
						formula_cells: neutralize ? report.formulaCells : null,
						scrubbed: options.scrub && options.freeText ? report.scrubbed : null,
						note: options.scrub
							? 'Scrubbing replaces obvious identifiers only (emails, phone numbers, URLs); names, addresses and dates are not detected.'
							: null
					},
					null,
					2
				)}\n`;
			}
		}
	];
	return { slug: protocol.slug, files, report };
}
