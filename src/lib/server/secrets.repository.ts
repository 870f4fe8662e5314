import { randomBytes } from 'node:crypto';
import type { Queryable } from './db/types.ts';

// A secret never changes once written (the first writer wins, and nothing updates or deletes it),
// so a value read from a database handle can be kept with that handle: participant pages derive
// panel-id hashes and resume codes on every view, and need not ask the database each time.
const known = new WeakMap<Queryable, Map<string, string>>();

/**
 * A random secret created once per installation and shared by every instance through the
 * database (e.g. the HMAC key for panel ids). Concurrent first calls agree on one value.
 */
export async function instanceSecret(db: Queryable, name: string): Promise<string> {
	const cached = known.get(db)?.get(name);
	if (cached !== undefined) return cached;
	const read = () =>
		db.selectFrom('instance_secrets').select('value').where('name', '=', name).executeTakeFirst();
	let row = await read();
	if (!row) {
		await db
			.insertInto('instance_secrets')
			.values({ name, value: randomBytes(32).toString('hex') })
			.onConflict((oc) => oc.column('name').doNothing())
			.execute();
		row = await read();
	}
	const value = row!.value;
	let secrets = known.get(db);
	if (!secrets) known.set(db, (secrets = new Map()));
	secrets.set(name, value);
	return value;
}
