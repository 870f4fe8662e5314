import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { TestProject } from 'vitest/node';
import type { DB } from '../../src/lib/server/db/schema.ts';
import { createDatabase, dropDatabase, listDatabases } from '../../src/lib/server/db/admin.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { isProcessRunning } from '../../src/lib/server/process-alive.ts';
import { pgTestServerUrl, type PgTestContext } from './pg-url.ts';

// Migrate once into a template database; every test file then clones it with
// CREATE DATABASE … TEMPLATE, which takes milliseconds instead of a migration run.

declare module 'vitest' {
	export interface ProvidedContext {
		pg: PgTestContext | null;
		/** A dump of an in-memory PGlite with every migration applied, for tests to start from. */
		pgliteSnapshot: string;
	}
}

/**
 * Migrates an in-memory PGlite once and dumps it: each test file's embedded database starts from
 * this dump instead of running every migration again (seconds a file on a busy machine).
 */
async function pgliteSnapshot(): Promise<{ file: string; remove: () => void }> {
	const file = path.join(os.tmpdir(), `bedside-pglite-snapshot-${process.pid}.tar`);
	const client = await PGlite.create('memory://');
	const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
	try {
		await migrateToLatest(db);
		const dump = await client.dumpDataDir('none');
		fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
	} finally {
		await db.destroy();
	}
	return { file, remove: () => fs.rmSync(file, { force: true }) };
}

const PREFIX = 'bedside_t';

/** Drops databases left behind by test runs that crashed (their process is gone). */
async function dropLeftovers(adminUrl: string): Promise<void> {
	for (const name of await listDatabases(adminUrl, `${PREFIX}`)) {
		const pid = Number(/^bedside_t(?:pl)?_(\d+)_/.exec(name)?.[1]);
		if (Number.isInteger(pid) && !isProcessRunning(pid)) await dropDatabase(adminUrl, name);
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const snapshot = await pgliteSnapshot();
	project.provide('pgliteSnapshot', snapshot.file);
	const adminUrl = pgTestServerUrl();
	if (!adminUrl) {
		project.provide('pg', null);
		return async () => snapshot.remove();
	}
	await dropLeftovers(adminUrl);
	const template = `${PREFIX}pl_${process.pid}_template`;
	await dropDatabase(adminUrl, template);
	const database = await openDatabase({
		kind: 'pg',
		url: await createDatabase(adminUrl, template),
		poolSize: 1
	});
	try {
		await migrateToLatest(database.db);
	} finally {
		await database.close();
	}
	project.provide('pg', { adminUrl, template, prefix: `${PREFIX}_${process.pid}_` });
	return async () => {
		snapshot.remove();
		for (const name of await listDatabases(adminUrl, `${PREFIX}_${process.pid}_`)) {
			await dropDatabase(adminUrl, name);
		}
		await dropDatabase(adminUrl, template);
	};
}
