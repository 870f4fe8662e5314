import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabase, dropDatabase } from '../../src/lib/server/db/admin.ts';
import { openDatabase, type Database } from '../../src/lib/server/db/index.ts';

export type TestDatabaseKind = 'pglite' | 'pg';

export interface TestDatabase extends Database {
	/** For pg: the URL of this test's own database (to hand to a server process). */
	url: string | null;
}

/** The databases integration tests run on: PGlite always, PostgreSQL when one is configured. */
export function databaseKinds(): TestDatabaseKind[] {
	return inject('pg') ? ['pglite', 'pg'] : ['pglite'];
}

/** A fresh database of its own for one test file (or one describe block), already migrated. */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
	if (kind === 'pglite') {
		// From the migrated snapshot the global setup made (the same schema, without the migration run).
		const snapshot = fs.readFileSync(inject('pgliteSnapshot'));
		const database = await openDatabase({
			kind: 'pglite',
			dataDir: 'memory://',
			initialData: new Blob([snapshot])
		});
		return { ...database, url: null };
	}
	const { url, drop } = await createPgTestDatabase();
	const database = await openDatabase({ kind: 'pg', url, poolSize: 10 });
	return {
		...database,
		url,
		close: async () => {
			await database.close();
			await drop();
		}
	};
}

/** A new PostgreSQL database cloned from the migrated template; `drop` removes it. */
export async function createPgTestDatabase(
	options: { migrated?: boolean } = {}
): Promise<{ url: string; drop: () => Promise<void> }> {
	const pg = inject('pg');
	if (!pg) throw new Error('no PostgreSQL configured for tests (set TEST_DATABASE_URL)');
	const name = `${pg.prefix}${randomBytes(5).toString('hex')}`;
	const url = await createDatabase(
		pg.adminUrl,
		name,
		options.migrated === false ? undefined : pg.template
	);
	return { url, drop: () => dropDatabase(pg.adminUrl, name) };
}

/**
 * Opens a fresh database for the enclosing describe block and closes it afterwards; call the
 * returned function inside tests to get it.
 */
export function useTestDatabase(kind: TestDatabaseKind): () => TestDatabase {
	let database: TestDatabase | undefined;
	beforeAll(async () => {
		database = await openTestDatabase(kind);
	});
	afterAll(async () => {
		await database?.close();
	});
	return () => {
		if (!database) throw new Error('the test database is not open yet');
		return database;
	};
}
