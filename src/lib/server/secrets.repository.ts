import { randomBytes } from 'node:crypto';
import type { Queryable } from './db/types.ts';

/**
 * A random secret created once per installation and shared by every instance through the
 * database (e.g. the HMAC key for panel ids). Concurrent first calls agree on one value.
 */
export async function instanceSecret(db: Queryable, name: string): Promise<string> {
	await db
		.insertInto('instance_secrets')
		.values({ name, value: randomBytes(32).toString('hex') })
		.onConflict((oc) => oc.column('name').doNothing())
		.execute();
	const row = await db
		.selectFrom('instance_secrets')
		.select('value')
		.where('name', '=', name)
		.executeTakeFirstOrThrow();
	return row.value;
}
