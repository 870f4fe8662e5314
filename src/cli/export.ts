import fs from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { CLI_ACTOR } from '../lib/server/actor.ts';
import { studyExport } from '../lib/server/export/export.service.ts';
import { exportZipStream, writeExportToDir } from '../lib/server/export/writers.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside export <slug> (--out DIR | --zip FILE) [--no-free-text] [--scrub] [--raw]

  Writes the study in the export format (docs/export-format.md): study.json, participants,
  episodes, measures, recommendations, messages, deviations (CSV), codebook.json and
  export_report.json, into a folder or a zip. --no-free-text leaves out messages' text and typed
  conditions; --scrub replaces emails, phone numbers and URLs in free text (counted in the report).
  Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a
  leading single quote (counted in the report); --raw leaves every cell as stored, for R or Python.`;

export async function runExport(args: string[]): Promise<number> {
	return runSubcommand('bedside export', USAGE, async () => {
		const { positionals, values } = parseOptions(args, {
			out: { type: 'string' },
			zip: { type: 'string' },
			'no-free-text': { type: 'boolean', default: false },
			scrub: { type: 'boolean', default: false },
			raw: { type: 'boolean', default: false }
		});
		if (positionals.length !== 1) throw new UsageError('give one study slug');
		if (!values.out === !values.zip)
			throw new UsageError('give exactly one of --out DIR or --zip FILE');
		return withDatabase(async ({ db }) => {
			const handle = await studyExport(
				db,
				positionals[0]!,
				{ freeText: !values['no-free-text'], scrub: values.scrub, raw: values.raw },
				CLI_ACTOR
			);
			if (values.out) await writeExportToDir(handle, values.out);
			else {
				const out = fs.createWriteStream(values.zip!);
				Readable.fromWeb(exportZipStream(handle) as import('node:stream/web').ReadableStream).pipe(
					out
				);
				await once(out, 'finish');
			}
			const rows = Object.entries(handle.report.rows)
				.map(([file, n]) => `${file} ${n}`)
				.join(', ');
			console.log(`${handle.slug}: exported to ${values.out ?? values.zip} (${rows})`);
			if (handle.report.formulaCells > 0)
				console.log(
					`  ${handle.report.formulaCells} text cell(s) that a spreadsheet would run as formulas begin with ' (--raw leaves them as stored)`
				);
			if (values.scrub)
				console.log(
					`  scrubbed: ${handle.report.scrubbed.email} email(s), ${handle.report.scrubbed.phone} phone number(s), ${handle.report.scrubbed.url} URL(s)`
				);
			return 0;
		});
	});
}
