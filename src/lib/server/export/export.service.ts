import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { verifyRunningConfig } from '../prereg/prereg.service.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { codebookFor } from './codebook.ts';
import {
	deviationsFile,
	followUpsFile,
	episodesFile,
	exportWriter,
	jsonFile,
	measuresFile,
	messagesFile,
	participantsFile,
	recommendationsFile
} from './export-files.ts';
import { declinedCount } from './export.repository.ts';
import type { ScrubCounts } from './scrub.ts';

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
	report: ExportReport;
}

export interface ExportReport {
	options: ExportOptions;
	rows: Record<string, number>;
	scrubbed: ScrubCounts;
	/** Text cells given a leading quote so no spreadsheet runs them as formulas. */
	formulaCells: number;
}

/** study.json: what the study was, as preregistered, and how many declined. */
function studyJson(
	protocol: StudyProtocol,
	sha: { protocol: string; preregistration: string },
	enrolment: { declined: number }
) {
	const proxyScales = new Map(
		[...protocol.questionnaires.per_episode, ...protocol.questionnaires.end_of_study].map((i) => [
			i.id,
			[i.scale.min, i.scale.max]
		])
	);
	return {
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
		follow_ups: (protocol.follow_ups ?? []).map((f) => ({
			id: f.id,
			after_days: f.after_days,
			window_days: f.window_days,
			questions: f.questions.map((q) => ({ id: q.id, kind: q.kind, type: q.type }))
		})),
		// Declining people are not exported, but CONSORT counts them among those assessed.
		enrolment
	};
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
	const w = exportWriter(options);
	const files: ExportFile[] = [
		jsonFile('study.json', async () =>
			studyJson(
				protocol,
				{ protocol: preregistration.protocolSha256, preregistration: preregistration.sha256 },
				{ declined: await declinedCount(db, study.id) }
			)
		),
		participantsFile(w, db, study.id),
		episodesFile(w, db, study.id),
		measuresFile(w, db, study.id),
		recommendationsFile(w, db, study.id),
		messagesFile(w, db, study.id, options),
		deviationsFile(w, db, study.id),
		followUpsFile(w, db, study.id),
		jsonFile('codebook.json', () => codebookFor(protocol)),
		jsonFile('export_report.json', () => exportReport(protocol.slug, options, w.report))
	];
	return { slug: protocol.slug, files, report: w.report };
}

/** export_report.json: the options, the rows per file, and what scrubbing and quoting changed. */
function exportReport(slug: string, options: ExportOptions, report: ExportReport) {
	const neutralize = options.raw !== true;
	return {
		format: EXPORT_FORMAT,
		study: slug,
		exported_at: new Date().toISOString(),
		options: { free_text: options.freeText, scrub: options.scrub, formula_safe: neutralize },
		rows: report.rows,
		formula_cells: neutralize ? report.formulaCells : null,
		scrubbed: options.scrub && options.freeText ? report.scrubbed : null,
		note: options.scrub
			? 'Scrubbing replaces obvious identifiers only (emails, phone numbers, URLs); names, addresses and dates are not detected.'
			: null
	};
}
