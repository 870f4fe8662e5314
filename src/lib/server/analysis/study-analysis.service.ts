import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyze } from '../../../../analysis/analyze.ts';
import { readExportDir } from '../../../../analysis/io/export-reader.ts';
import type { Actor } from '../actor.ts';
import type { Queryable } from '../db/types.ts';
import { studyExport } from '../export/export.service.ts';
import { writeExportToDir } from '../export/writers.ts';

// The analysis of a study in the workspace: the study is exported (without free text, which the
// analysis does not read) to a temporary folder, read by the analysis library exactly as an
// analyst's R session or `bedside analyze` would read it, and analysed with the preregistered
// plan's seed (or the caller's). One path from database to numbers, whoever runs it.

export async function analyzeStudy(
	db: Queryable,
	slug: string,
	actor: Actor,
	options: { seed?: number } = {}
) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bedside-analysis-'));
	try {
		await writeExportToDir(
			await studyExport(db, slug, { freeText: false, scrub: false }, actor),
			dir
		);
		const data = readExportDir(dir);
		return { result: analyze(data, options), title: data.study.title || data.study.slug };
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}
