import type { TestProject } from 'vitest/node';
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
	}
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
	const adminUrl = pgTestServerUrl();
	if (!adminUrl) {
		project.provide('pg', null);
		return async () => {};
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
		for (const name of await listDatabases(adminUrl, `${PREFIX}_${process.pid}_`)) {
			await dropDatabase(adminUrl, name);
		}
		await dropDatabase(adminUrl, template);
	};
}
