import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import type { DatabaseTarget } from '../config.ts';
import { isProcessRunning } from '../process-alive.ts';
import type { DB } from './schema.ts';
import { registerCopyOut } from './copy-out.ts';

export type { DB } from './schema.ts';

/** An open database: the Kysely handle, what it is, and how to close it. */
export interface Database {
	db: Kysely<DB>;
	kind: DatabaseTarget['kind'];
	close(): Promise<void>;
}

/**
 * Opens the database a target names: a `pg` pool, or embedded PGlite in a data folder (or memory).
 * PGlite has a single connection, so code inside a transaction must use its `trx`, never `db`:
 * a query on `db` would wait for the transaction that waits for it.
 */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
	return target.kind === 'pg'
		? openPostgres(target.url, target.poolSize)
		: openPglite(target.dataDir, target.initialData);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
	const pg = await import('pg');
	const { Pool, types } = pg.default;
	const pool = new Pool({
		connectionString: url,
		max: poolSize,
		// A database that does not answer fails the request (503) instead of holding it forever.
		connectionTimeoutMillis: 5_000,
		// Same row shapes as PGlite: int8 (ids, counts) as numbers; they stay far below 2^53 here.
		types: {
			getTypeParser: (oid: number, format?: 'text' | 'binary') =>
				oid === types.builtins.INT8
					? (value: string) => Number(value)
					: types.getTypeParser(oid, format ?? 'text')
		}
	});
	// An idle client that loses its server (a database restart) must not crash the process;
	// the pool drops it and the next query reconnects.
	pool.on('error', (error) => console.error(`[db] idle connection error: ${error.message}`));
	// A client checked out of the pool (say, inside a transaction) whose connection drops emits
	// 'error' too; without a listener that would end the process. The query in flight fails (503)
	// and the pool discards the client.
	pool.on('connect', (client) =>
		client.on('error', (error) => console.error(`[db] connection error: ${error.message}`))
	);
	const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
	registerCopyOut(db, pool);
	return { db, kind: 'pg', close: () => db.destroy() };
}

async function openPglite(dataDir: string, initialData?: Blob): Promise<Database> {
	const { PGlite } = await import('@electric-sql/pglite');
	const { PGliteDialect } = await import('kysely-pglite-dialect');
	const releaseLock = dataDir === 'memory://' ? () => {} : lockDataDir(dataDir);
	try {
		const client = await PGlite.create(dataDir, initialData ? { loadDataDir: initialData } : {});
		const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
		return {
			db,
			kind: 'pglite',
			close: async () => {
				await db.destroy();
				releaseLock();
			}
		};
	} catch (error) {
		releaseLock();
		throw error;
	}
}

/**
 * PGlite's data folder belongs to one process: a second one (say `bedside migrate` while the
 * server runs) would corrupt it. A lock file with our pid refuses that with a clear message.
 */
function lockDataDir(dataDir: string): () => void {
	fs.mkdirSync(dataDir, { recursive: true });
	const lockFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
			return () => fs.rmSync(lockFile, { force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const holder = Number(fs.readFileSync(lockFile, 'utf8'));
			if (Number.isInteger(holder) && holder !== process.pid && isProcessRunning(holder)) {
				throw new Error(
					`The embedded database in ${dataDir} is in use by process ${holder}. ` +
						'Stop that process first, or set DATABASE_URL to share a PostgreSQL server.'
				);
			}
			// The holder is gone (a crash or SIGKILL): the lock is stale, take it over.
			fs.rmSync(lockFile, { force: true });
		}
	}
	throw new Error(`Could not lock the embedded database in ${dataDir}`);
}
