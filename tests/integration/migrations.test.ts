import { Migrator, NO_MIGRATIONS, sql, type Kysely } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import {
	currentVersion,
	latestKnownVersion,
	migrateToLatest
} from '../../src/lib/server/db/migrate.ts';
import {
	createPgTestDatabase,
	databaseKinds,
	useTestDatabase,
	type TestDatabase
} from '../helpers/database.ts';

const DOMAIN_TABLES = [
	'access_token_studies',
	'access_tokens',
	'allocation_slots',
	'arms',
	'assistant_calls',
	'assumption_evidence',
	'assumptions',
	'audit_events',
	'benchmark_cards',
	'benchmark_runs',
	'decision_codings',
	'decision_corrections',
	'decisions',
	'episode_events',
	'episodes',
	'follow_up_responses',
	'initial_decisions',
	'instance_secrets',
	'login_attempts',
	'measures',
	'memberships',
	'messages',
	'panel_actions',
	'panel_settings',
	'participants',
	'preregistrations',
	'protocol_deviations',
	'protocol_versions',
	'rate_events',
	'recommendations',
	'scenarios',
	'sessions',
	'studies',
	'study_assumptions',
	'study_secrets',
	'test_allocations',
	'user_identities',
	'users'
];

async function tables<T>(db: Kysely<T>): Promise<string[]> {
	const result = await sql<{ table_name: string }>`
		select table_name from information_schema.tables
		where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db);
	return result.rows.map((r) => r.table_name);
}

describe.each(databaseKinds())('migrations on %s', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('create every table of the domain model', async () => {
		expect(await tables(t.db)).toEqual(DOMAIN_TABLES);
		expect(await currentVersion(t.db)).toBe(latestKnownVersion());
	});

	it('are idempotent: a second run applies nothing', async () => {
		expect(await migrateToLatest(t.db)).toEqual({ applied: [], version: latestKnownVersion() });
	});

	it('can be rolled all the way down and up again', async () => {
		const migrator = new Migrator({
			db: t.db,
			provider: { getMigrations: async () => migrations }
		});
		const down = await migrator.migrateTo(NO_MIGRATIONS);
		expect(down.error).toBeUndefined();
		expect(await tables(t.db)).toEqual([]);
		const up = await migrateToLatest(t.db);
		expect(up.applied).toEqual(Object.keys(migrations));
		expect(await tables(t.db)).toEqual(DOMAIN_TABLES);
	});
});

describe.runIf(databaseKinds().includes('pg'))('migrations from two instances at once (pg)', () => {
	it('run one after the other under the advisory lock, each migration exactly once', async () => {
		const { url, drop } = await createPgTestDatabase({ migrated: false });
		const a = await openDatabase({ kind: 'pg', url, poolSize: 2 });
		const b = await openDatabase({ kind: 'pg', url, poolSize: 2 });
		try {
			const [ra, rb] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)]);
			expect([...ra.applied, ...rb.applied].sort()).toEqual(Object.keys(migrations));
			expect(ra.version).toBe(latestKnownVersion());
			expect(rb.version).toBe(latestKnownVersion());
			const applied = await sql<{
				n: number;
			}>`select count(*)::int as n from kysely_migration`.execute(a.db);
			expect(applied.rows[0]?.n).toBe(Object.keys(migrations).length);
		} finally {
			await a.close();
			await b.close();
			await drop();
		}
	});
});
