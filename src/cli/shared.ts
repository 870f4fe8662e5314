import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EndpointNotConfiguredError } from '../lib/server/assistant/providers.ts';
import { loadConfig } from '../lib/server/config.ts';
import { openDatabase, type Database } from '../lib/server/db/index.ts';
import { migrateToLatest } from '../lib/server/db/migrate.ts';
import { RunningConfigError } from '../lib/server/prereg/prereg.service.ts';
import { StudyStateError } from '../lib/server/studies/studies.service.ts';
import { formatProblems, ValidationError } from '../lib/server/validation/problems.ts';

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Parses options strictly: an unknown flag or a missing value is a UsageError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
	args: string[],
	options: T
) {
	try {
		return parseArgs({ args, options, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
}

/** Opens the configured database, brought to the newest schema, for one CLI command. */
export async function withDatabase<T>(work: (database: Database) => Promise<T>): Promise<T> {
	const database = await openDatabase(loadConfig().database);
	try {
		await migrateToLatest(database.db);
		return await work(database);
	} finally {
		await database.close();
	}
}

/** Writes text to a file, or to standard output when no file is given. */
export function writeOut(text: string, file: string | undefined): void {
	if (file) fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
	else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Runs a subcommand and maps the domain's errors to what a person at a terminal needs: the
 * problems with their paths (exit 1), a refused state change (exit 1), a usage error (exit 2).
 */
export async function runSubcommand(
	prefix: string,
	usage: string,
	work: () => Promise<number>
): Promise<number> {
	try {
		return await work();
	} catch (error) {
		if (error instanceof UsageError) {
			console.error(`${prefix}: ${error.message}\n\n${usage}`);
			return 2;
		}
		if (error instanceof ValidationError) {
			console.error(
				`${prefix}: ${error.source ? `${error.source}: ` : ''}${error.problems.length} problem(s):\n${formatProblems(error.problems)}`
			);
			return 1;
		}
		if (
			error instanceof StudyStateError ||
			error instanceof RunningConfigError ||
			error instanceof EndpointNotConfiguredError
		) {
			console.error(`${prefix}: ${error.message}`);
			return 1;
		}
		throw error;
	}
}
