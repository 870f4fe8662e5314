import { describeDatabase, loadConfig, type AppConfig } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { migrateToLatest } from './db/migrate.ts';
import {
	DEMO_STUDY_SLUG,
	seedDemoAdminIfNoUsers,
	seedDemoStudyIfEmpty,
	type DemoSources
} from './demo/demo-study.ts';
import { countUsers } from './auth/users.repository.ts';
import { Admission } from './assistant/admission.ts';

/** What one running Bedside process holds: its configuration and its database. */
export interface App {
	config: AppConfig;
	database: Database;
	startedAt: Date;
	/** This worker's chat admission (its queue is its own; nothing in it is shared). */
	chatAdmission: Admission;
}

// The one process-wide resource (the connection pool or the embedded database). Per-request
// data never lives here; it belongs on event.locals.
let running: Promise<App> | undefined;

/**
 * Starts the app once per process: validates the environment, opens the database, migrates it
 * (under an advisory lock, so several instances may start at once), and seeds the demo study
 * into an empty database.
 */
export function startApp(
	demo: DemoSources,
	env: Record<string, string | undefined> = process.env
): Promise<App> {
	running ??= boot(demo, env).catch((error: unknown) => {
		running = undefined;
		throw error;
	});
	return running;
}

/** The running app (started by the server's init hook). */
export function getApp(): Promise<App> {
	if (!running) throw new Error('the app has not been started');
	return running;
}

export async function stopApp(): Promise<void> {
	const app = running;
	running = undefined;
	if (app) await (await app).database.close();
}

async function boot(demo: DemoSources, env: Record<string, string | undefined>): Promise<App> {
	const config = loadConfig(env);
	const database = await openDatabase(config.database);
	try {
		const { applied, version } = await migrateToLatest(database.db);
		const seeded = config.seedDemo
			? await seedDemoStudyIfEmpty(database.db, demo, Object.keys(config.llm.endpoints))
			: false;
		const admin = config.seedDemo ? await seedDemoAdminIfNoUsers(database.db) : null;
		const noUsers = !admin && (await countUsers(database.db)) === 0;
		const url = config.origin ?? `http://localhost:${config.port}`;
		const proxyWarning = addressHeaderWarning(config.origin, env);
		// Several workers (bin/serve.js): the first says where to sign in; the others only that they are up.
		const worker = Number(env.BEDSIDE_WORKER ?? '1');
		if (worker > 1) {
			console.log(`  worker ${worker} ready`);
			return {
				config,
				database,
				startedAt: new Date(),
				chatAdmission: new Admission(config.chat.maxActive, config.chat.maxQueued)
			};
		}
		console.log(
			[
				'',
				`Bedside is starting on ${describeDatabase(config.database)}.`,
				`  schema: ${version}${applied.length ? ` (applied ${applied.length} migration(s) now)` : ''}`,
				seeded
					? `  seeded the example study "${DEMO_STUDY_SLUG}" (a draft) and its BenchmarkCards`
					: null,
				`  open ${url}`,
				`  health: ${url}/healthz`,
				admin
					? `  sign in at ${url}/login as ${admin.email} with the one-time password ${admin.password}\n    (shown once, valid for 7 days; you will choose your own password)`
					: noUsers
						? '  no account yet: stop the server and run `npx bedside user create --email you@example.org --admin`'
						: `  sign in at ${url}/login`,
				proxyWarning,
				''
			]
				.filter((line) => line !== null)
				.join('\n')
		);
		return {
			config,
			database,
			startedAt: new Date(),
			chatAdmission: new Admission(config.chat.maxActive, config.chat.maxQueued)
		};
	} catch (error) {
		await database.close();
		throw error;
	}
}

/**
 * Behind a reverse proxy every request comes from the proxy's address unless adapter-node is told
 * which header carries the client's (ADDRESS_HEADER, XFF_DEPTH): per-address limits would then
 * count everyone together. A public ORIGIN with no address header is almost always that case.
 */
export function addressHeaderWarning(
	origin: string | undefined,
	env: Record<string, string | undefined>
): string | null {
	if (!origin || env.ADDRESS_HEADER) return null;
	const host = new URL(origin).hostname;
	if (host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.'))
		return null;
	return [
		`  warning: ORIGIN is public (${origin}) but ADDRESS_HEADER is not set. Behind a reverse`,
		"    proxy every client then has the proxy's address, and the per-address limits on sign-in",
		'    and enrolment count everyone together. Set ADDRESS_HEADER=x-forwarded-for (and',
		'    XFF_DEPTH to the number of proxies) as your proxy sends it; see docs/deployment.md.'
	].join('\n');
}
