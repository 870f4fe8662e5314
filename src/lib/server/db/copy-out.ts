import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Queryable } from './types.ts';

// PostgreSQL's `COPY … TO STDOUT` streams rows formatted by the server at disk speed; the export
// uses it for its largest files. Only a pg pool has it (PGlite does not stream COPY), so the
// export asks for it and falls back to pages of rows when there is none.

export interface CopyOut {
	/** The text of `COPY (query) TO STDOUT WITH (FORMAT csv)`, decoded as UTF-8 chunk by chunk. */
	(query: string): { chunks: AsyncIterable<string>; rows: () => number };
}

const copiers = new WeakMap<object, CopyOut>();

export function registerCopyOut(db: object, pool: Pool): void {
	copiers.set(db, (query) => {
		let rows = 0;
		async function* chunks(): AsyncGenerator<string> {
			const client = await pool.connect();
			let finished = false;
			try {
				const stream = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv)`));
				stream.setEncoding('utf8');
				for await (const chunk of stream) yield chunk as string;
				rows = stream.rowCount;
				finished = true;
			} finally {
				// A copy that failed or was abandoned half-way leaves the connection mid-protocol:
				// it is closed, not returned to the pool.
				client.release(finished ? undefined : true);
			}
		}
		return { chunks: chunks(), rows: () => rows };
	});
}

/** The database's COPY, or undefined (PGlite, or a transaction: the export then reads pages). */
export function copyOutOf(db: Queryable): CopyOut | undefined {
	return db.isTransaction ? undefined : copiers.get(db);
}
