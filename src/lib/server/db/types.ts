import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.ts';

/** A handle that can run queries: the database, or a transaction on it. */
export type Queryable = Kysely<DB> | Transaction<DB>;
