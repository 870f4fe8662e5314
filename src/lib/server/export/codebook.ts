import { EXPORT_FILES, type Allowed, type Column } from '../../../../analysis/io/columns.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';

// codebook.json: every column of every file, with its type, meaning and allowed values or unit,
// read off the export's one column table (analysis/io/columns.ts, docs/export-format.md), plus one
// entry per measure the study defines.

export interface CodebookEntry {
	file: string;
	column: string;
	type: Column['type'];
	meaning: string;
	values?: string[] | string;
}

export function codebookFor(protocol: StudyProtocol) {
	const studyValues = {
		arms: protocol.arms.map((a) => a.id),
		scenarios: protocol.scenarios.map((s) => s.id),
		scale: protocol.disposition_scale.map((d) => d.id)
	};
	const valuesOf = (values: Allowed | undefined): CodebookEntry['values'] | undefined =>
		values === undefined
			? undefined
			: typeof values === 'string'
				? studyValues[values]
				: 'unit' in values
					? values.unit
					: [...values];
	const columns: CodebookEntry[] = Object.entries(EXPORT_FILES).flatMap(([file, list]) =>
		(list as readonly Column[]).map((c) => {
			const values = valuesOf(c.values);
			return {
				file,
				column: c.name,
				type: c.type,
				meaning: c.meaning,
				...(values !== undefined && { values })
			};
		})
	);
	const measures = [
		...protocol.screening
			.filter((q) => q.covariate)
			.map((q) => ({
				measure: q.id,
				kind: 'covariate',
				meaning: q.text,
				values: q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value)
			})),
		...protocol.questionnaires.per_episode.map((i) => ({
			measure: i.id,
			kind: i.kind,
			meaning: `${i.text} (per episode)`,
			values: `${i.scale.min}–${i.scale.max}`
		})),
		...protocol.questionnaires.end_of_study.map((i) => ({
			measure: i.id,
			kind: i.kind,
			meaning: `${i.text} (end of study)`,
			values: `${i.scale.min}–${i.scale.max}`
		})),
		...protocol.attention_checks.map((a) => ({
			measure: `attention_${a.id}`,
			kind: 'covariate',
			meaning: `attention check: ${a.text}`,
			values: ['1 correct', '0 not']
		}))
	];
	return {
		format: 'bedside-codebook/1',
		text_cells:
			"Unless the export was made raw (export_report.json: options.formula_safe false), a text cell that a spreadsheet would run as a formula (one starting with =, +, -, @, a tab or a carriage return) begins with a single quote ('), as OWASP advises against CSV injection; remove that one leading quote to get the stored text. Numbers are never changed.",
		columns,
		measures
	};
}
