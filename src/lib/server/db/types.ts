import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.ts';

/** A handle that can run queries: the database, or a transaction on it. */
export type Queryable = Kysely<DB> | Transaction<DB>;

/**
 * Runs `work` in a transaction: the caller's, when it already holds one (so a service can be
 * composed into a larger all-or-nothing step), or a new one.
 */
export function inTransaction<T>(
	db: Queryable,
	work: (trx: Transaction<DB>) => Promise<T>
): Promise<T> {
	return db.isTransaction ? work(db as Transaction<DB>) : db.transaction().execute(work);
}
