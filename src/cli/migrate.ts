import { describeDatabase, loadConfig } from '../lib/server/config.ts';
import { openDatabase } from '../lib/server/db/index.ts';
import { migrateToLatest } from '../lib/server/db/migrate.ts';

/** `bedside migrate`: apply pending migrations to the configured database. */
export async function runMigrate(args: string[]): Promise<number> {
	if (args.length > 0) {
		console.error(`bedside migrate: takes no arguments (got ${args.join(' ')})`);
		return 2;
	}
	const config = loadConfig();
	const database = await openDatabase(config.database);
	try {
		const { applied, version } = await migrateToLatest(database.db);
		console.log(`Database: ${describeDatabase(config.database)}`);
		console.log(
			applied.length === 0
				? `Already up to date at ${version}.`
				: `Applied ${applied.length} migration(s):\n${applied.map((n) => `  ${n}`).join('\n')}\nNow at ${version}.`
		);
		return 0;
	} finally {
		await database.close();
	}
}
