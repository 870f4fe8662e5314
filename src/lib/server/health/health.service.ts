import { sql } from 'kysely';
import type { App } from '../app.ts';
import { currentVersion, latestKnownVersion } from '../db/migrate.ts';

export interface Health {
	status: 'ok' | 'degraded' | 'down';
	app: {
		up: true;
		startedAt: string;
		uptimeSeconds: number;
		/** The worker process that answered (several serve one port on PostgreSQL). */
		worker: { index: number; pid: number };
	};
	database: { up: boolean; kind: 'pg' | 'pglite'; latencyMs: number | null; error?: string };
	migrations: { current: string | null; latest: string; upToDate: boolean };
}

const DATABASE_TIMEOUT_MS = 2000;

/** Is the app up, does the database answer, and is its schema the one this code expects? */
export async function checkHealth(app: App, now: () => number = Date.now): Promise<Health> {
	const latest = latestKnownVersion();
	const started = now();
	let database: Health['database'];
	let current: string | null = null;
	try {
		current = await withTimeout(
			(async () => {
				await sql`select 1`.execute(app.database.db);
				return currentVersion(app.database.db);
			})(),
			DATABASE_TIMEOUT_MS
		);
		database = { up: true, kind: app.database.kind, latencyMs: now() - started };
	} catch (error) {
		database = {
			up: false,
			kind: app.database.kind,
			latencyMs: null,
			error: error instanceof Error ? error.message : String(error)
		};
	}
	const upToDate = current === latest;
	return {
		status: !database.up ? 'down' : upToDate ? 'ok' : 'degraded',
		app: {
			up: true,
			startedAt: app.startedAt.toISOString(),
			uptimeSeconds: Math.round((now() - app.startedAt.getTime()) / 1000),
			worker: { index: Number(process.env.BEDSIDE_WORKER ?? '1'), pid: process.pid }
		},
		database,
		migrations: { current, latest, upToDate }
	};
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
	});
	return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
