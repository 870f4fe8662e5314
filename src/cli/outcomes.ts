import fs from 'node:fs';
import { CLI_ACTOR } from '../lib/server/actor.ts';
import { importOutcomes } from '../lib/server/outcomes/outcome-import.service.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside outcomes import <slug> <file.csv>

  Imports later outcomes (columns participant_id, episode, measure, value) for measures the
  study declares with source: import. The file is checked in full first; with any problem nothing
  is imported and every problem is printed with its row.`;

export async function runOutcomes(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside outcomes ${command ?? ''}`.trim(), USAGE, async () => {
		if (command !== 'import')
			throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		const { positionals } = parseOptions(rest, {});
		if (positionals.length !== 2) throw new UsageError('give a study slug and a CSV file');
		const [slug, file] = positionals as [string, string];
		if (!fs.existsSync(file)) throw new UsageError(`no file "${file}"`);
		return withDatabase(async ({ db }) => {
			const result = await importOutcomes(db, slug, fs.readFileSync(file, 'utf8'), CLI_ACTOR);
			console.log(
				`${slug}: imported ${result.imported} value(s) (${Object.entries(result.measures)
					.map(([m, n]) => `${m} ${n}`)
					.join(', ')}); file SHA-256 ${result.sha256}`
			);
			return 0;
		});
	});
}
