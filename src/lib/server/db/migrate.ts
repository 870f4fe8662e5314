import { Migrator, sql, type Kysely, type MigrationResult } from 'kysely';
import { migrations } from '../../../../migrations/index.ts';

/** Arbitrary but fixed: the advisory lock key all Bedside processes take to migrate. */
const MIGRATION_LOCK_KEY = 4_207_220_261;

export interface MigrationOutcome {
	applied: string[];
	/** Name of the newest migration in the database after the run. */
	version: string | null;
}

export class MigrationError extends Error {
	constructor(
		message: string,
		readonly results: MigrationResult[]
	) {
		super(message);
		this.name = 'MigrationError';
	}
}

/**
 * Brings the schema to the newest migration. Runs under a session-level advisory lock on one
 * connection, so two instances starting together migrate one after the other, never at once
 * (Kysely's own lock also holds inside its transaction; ours also covers creating its tables).
 */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<MigrationOutcome> {
	return (db as Kysely<unknown>).connection().execute(async (conn) => {
		await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(conn);
		try {
			const migrator = new Migrator({
				db: conn,
				provider: { getMigrations: async () => migrations }
			});
			const { error, results = [] } = await migrator.migrateToLatest();
			if (error) {
				const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
				const reason = error instanceof Error ? error.message : String(error);
				throw new MigrationError(`Migration ${failed} failed: ${reason}`, results);
			}
			const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
			return { applied, version: await currentVersion(conn) };
		} finally {
			await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(conn);
		}
	});
}

/** Name of the newest applied migration, or null on an empty database. */
export async function currentVersion<T>(db: Kysely<T>): Promise<string | null> {
	const exists = await sql<{
		present: boolean;
	}>`select to_regclass('kysely_migration') is not null as present`.execute(db);
	if (!exists.rows[0]?.present) return null;
	const latest = await sql<{
		name: string;
	}>`select name from kysely_migration order by name desc limit 1`.execute(db);
	return latest.rows[0]?.name ?? null;
}

/** Name of the newest migration this code knows. */
export function latestKnownVersion(): string {
	const names = Object.keys(migrations).sort();
	return names[names.length - 1] ?? '';
}
