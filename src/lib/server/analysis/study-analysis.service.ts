import { analyze, type AnalyzeOptions } from '../../../../analysis/analyze.ts';
import { memorySource, readExport } from '../../../../analysis/io/export-reader.ts';
import type { Actor } from '../actor.ts';
import type { Queryable } from '../db/types.ts';
import { studyExport } from '../export/export.service.ts';

// The analysis of a study in the workspace: the study's export (without free text, which the
// analysis does not read) is produced in memory and read by the analysis library exactly as an
// analyst's R session or `bedside analyze` would read the files, and analysed with the
// preregistered plan's seed (or the caller's). One path from database to numbers, whoever runs
// it; the audit log records an analysis, not an export, since nothing leaves the app.

export async function analyzeStudy(
	db: Queryable,
	slug: string,
	actor: Actor,
	options: AnalyzeOptions = {}
) {
	const handle = await studyExport(
		db,
		slug,
		{ freeText: false, scrub: false, raw: true },
		actor,
		'analysis'
	);
	const files = new Map<string, string>();
	for (const file of handle.files) {
		// The conversations' text is left out, and the analysis reads no message: skip the file.
		if (file.name === 'messages.csv') continue;
		let text = '';
		for await (const chunk of file.content()) text += chunk;
		files.set(file.name, text);
	}
	const data = readExport(memorySource(files));
	return { result: analyze(data, options), title: data.study.title || data.study.slug };
}
