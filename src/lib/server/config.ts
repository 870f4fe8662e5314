import path from 'node:path';
import { z } from 'zod';

/** The validated environment of one Bedside process. */
export interface AppConfig {
	port: number;
	host: string;
	origin: string | undefined;
	/** `pg` when DATABASE_URL is set, otherwise embedded PGlite in `dataDir`. */
	database: DatabaseTarget;
	dataDir: string;
	seedDemo: boolean;
	/** New participants per client address in 10 minutes (0: no limit). */
	enrolmentsPerAddress: number;
	/** OpenAI-compatible endpoints by name ("default" from BEDSIDE_LLM_BASE_URL). */
	llm: LlmConfig;
	/** Prolific's API, when the instance has a token (never in a study file or an export). */
	prolific: { baseUrl: string; token: string } | null;
	/** Institutional sign-in by OpenID Connect, beside local accounts, when configured. */
	oidc: OidcConfig | null;
	/** Chat admission per worker: messages stored at once, and how many may wait their turn. */
	chat: { maxActive: number; maxQueued: number };
}

export interface OidcConfig {
	issuer: string;
	clientId: string;
	clientSecret: string;
	/** What the sign-in button says ("Sign in with <name>"). */
	name: string;
}

export interface LlmEndpoint {
	baseUrl: string;
	/** From the environment only; never stored, logged or shown. */
	apiKey: string | undefined;
}

export interface LlmConfig {
	endpoints: Record<string, LlmEndpoint>;
	/** How long one reply may take in all, retries included, before the participant is told. */
	retryWindowMs: number;
}

export type DatabaseTarget =
	| { kind: 'pg'; url: string; poolSize: number }
	/** `initialData`: a dump (PGlite's dumpDataDir) to start from; the tests' migrated snapshot. */
	| { kind: 'pglite'; dataDir: string; initialData?: Blob };

export class ConfigError extends Error {
	constructor(readonly problems: string[]) {
		super(
			`Bedside cannot start: the environment has ${problems.length} problem(s):\n` +
				problems.map((p) => `  - ${p}`).join('\n')
		);
		this.name = 'ConfigError';
	}
}

const booleanFlag = z
	.enum(['1', '0', 'true', 'false', 'yes', 'no'], {
		error: 'must be one of 1, 0, true, false, yes, no'
	})
	.transform((v) => v === '1' || v === 'true' || v === 'yes');

const httpUrl = z
	.url({ error: 'must be a URL such as https://example.org' })
	.refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
	.transform((u) => u.replace(/\/$/, ''));

const schema = z.object({
	PORT: z.coerce
		.number({ error: 'must be a whole number' })
		.int('must be a whole number')
		.min(1, 'must be between 1 and 65535')
		.max(65535, 'must be between 1 and 65535')
		.default(3000),
	HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
	ORIGIN: z
		.url({ error: 'must be a URL such as https://bedside.example.org' })
		.refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
		.refine((u) => !/\/$/.test(u), 'must not end with a slash')
		.optional(),
	DATABASE_URL: z
		.string()
		.refine(
			(u) => /^postgres(ql)?:\/\//.test(u),
			'must be a PostgreSQL URL such as postgres://user:password@host:5432/bedside'
		)
		.optional(),
	DATABASE_POOL_SIZE: z.coerce
		.number({ error: 'must be a whole number' })
		.int('must be a whole number')
		.min(1, 'must be at least 1')
		.max(200, 'must be at most 200')
		.default(10),
	BEDSIDE_DATA_DIR: z.string().min(1, 'must not be empty').default('./.data'),
	BEDSIDE_SEED_DEMO: booleanFlag.default(true),
	BEDSIDE_LLM_RETRY_SECONDS: z.coerce
		.number({ error: 'must be a number of seconds' })
		.int('must be a whole number of seconds')
		.min(1, 'must be at least 1')
		.max(600, 'must be at most 600')
		.default(30),
	BEDSIDE_ENROL_PER_ADDRESS: z.coerce
		.number({ error: 'must be a whole number' })
		.int('must be a whole number')
		.min(0, 'must be 0 (no limit) or more')
		.max(100_000, 'must be at most 100000')
		.default(30),
	BEDSIDE_PROLIFIC_TOKEN: z.string().min(8, 'must be a Prolific API token').optional(),
	BEDSIDE_PROLIFIC_API_URL: httpUrl.default('https://api.prolific.com'),
	BEDSIDE_OIDC_ISSUER: httpUrl.optional(),
	BEDSIDE_OIDC_CLIENT_ID: z.string().min(1).optional(),
	BEDSIDE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
	BEDSIDE_OIDC_NAME: z.string().min(1).max(60).default('your institution'),
	BEDSIDE_CHAT_CONCURRENCY: z.coerce
		.number({ error: 'must be a whole number' })
		.int('must be a whole number')
		.min(1, 'must be at least 1')
		.max(1000, 'must be at most 1000')
		.optional(),
	BEDSIDE_CHAT_QUEUE: z.coerce
		.number({ error: 'must be a whole number' })
		.int('must be a whole number')
		.min(0, 'must be 0 or more')
		.max(100_000, 'must be at most 100000')
		.default(1000)
});

const ENDPOINT_URL = /^BEDSIDE_LLM_(?:([A-Z0-9_]+)_)?BASE_URL$/;

/** BEDSIDE_LLM_BASE_URL is the "default" endpoint; BEDSIDE_LLM_<NAME>_BASE_URL the endpoint "<name>". */
function llmEndpoints(env: Record<string, string>): {
	endpoints: Record<string, LlmEndpoint>;
	problems: string[];
} {
	const endpoints: Record<string, LlmEndpoint> = {};
	const problems: string[] = [];
	for (const [name, value] of Object.entries(env)) {
		const match = ENDPOINT_URL.exec(name);
		if (!match) continue;
		if (!/^https?:\/\/[^\s]+$/.test(value) || !URL.canParse(value)) {
			problems.push(`${name}: must be an http(s) URL such as http://localhost:11434/v1`);
			continue;
		}
		const endpoint = (match[1] ?? 'default').toLowerCase();
		const keyName = match[1] ? `BEDSIDE_LLM_${match[1]}_API_KEY` : 'BEDSIDE_LLM_API_KEY';
		endpoints[endpoint] = { baseUrl: value.replace(/\/$/, ''), apiKey: env[keyName] };
	}
	return { endpoints, problems };
}

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
	// An empty variable means "not set": shells and .env files often leave `FOO=` behind.
	const present = Object.fromEntries(
		Object.entries(env).filter(([, v]) => v !== undefined && v !== '')
	);
	const parsed = schema.safeParse(present);
	const llm = llmEndpoints(present as Record<string, string>);
	if (!parsed.success || llm.problems.length > 0) {
		// One message per variable: the first thing wrong with it is the one to fix.
		const byVariable = new Map<string, string>();
		for (const issue of parsed.error?.issues ?? []) {
			const name = String(issue.path[0] ?? '?');
			if (byVariable.has(name)) continue;
			const got = present[name];
			const shown =
				name === 'DATABASE_URL'
					? redactUrl(got)
					: /TOKEN|SECRET/.test(name) && got !== undefined
						? '***'
						: got;
			byVariable.set(
				name,
				`${name}: ${issue.message}${shown === undefined ? '' : ` (got "${shown}")`}`
			);
		}
		throw new ConfigError([...byVariable.values(), ...llm.problems]);
	}
	const e = parsed.data;
	const oidcParts = [e.BEDSIDE_OIDC_ISSUER, e.BEDSIDE_OIDC_CLIENT_ID, e.BEDSIDE_OIDC_CLIENT_SECRET];
	if (oidcParts.some(Boolean) && !oidcParts.every(Boolean))
		throw new ConfigError([
			'BEDSIDE_OIDC_ISSUER, BEDSIDE_OIDC_CLIENT_ID and BEDSIDE_OIDC_CLIENT_SECRET: set all three or none'
		]);
	const dataDir =
		e.BEDSIDE_DATA_DIR === 'memory://' ? 'memory://' : path.resolve(e.BEDSIDE_DATA_DIR);
	return {
		port: e.PORT,
		host: e.HOST,
		origin: e.ORIGIN,
		dataDir,
		database: e.DATABASE_URL
			? { kind: 'pg', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE }
			: {
					kind: 'pglite',
					dataDir: dataDir === 'memory://' ? dataDir : path.join(dataDir, 'pglite')
				},
		seedDemo: e.BEDSIDE_SEED_DEMO,
		enrolmentsPerAddress: e.BEDSIDE_ENROL_PER_ADDRESS,
		llm: { endpoints: llm.endpoints, retryWindowMs: e.BEDSIDE_LLM_RETRY_SECONDS * 1000 },
		prolific: e.BEDSIDE_PROLIFIC_TOKEN
			? { baseUrl: e.BEDSIDE_PROLIFIC_API_URL, token: e.BEDSIDE_PROLIFIC_TOKEN }
			: null,
		// By default as many messages at once as the pool has connections, less two for pages.
		chat: {
			maxActive:
				e.BEDSIDE_CHAT_CONCURRENCY ?? (e.DATABASE_URL ? Math.max(1, e.DATABASE_POOL_SIZE - 2) : 2),
			maxQueued: e.BEDSIDE_CHAT_QUEUE
		},
		oidc:
			e.BEDSIDE_OIDC_ISSUER && e.BEDSIDE_OIDC_CLIENT_ID && e.BEDSIDE_OIDC_CLIENT_SECRET
				? {
						issuer: e.BEDSIDE_OIDC_ISSUER,
						clientId: e.BEDSIDE_OIDC_CLIENT_ID,
						clientSecret: e.BEDSIDE_OIDC_CLIENT_SECRET,
						name: e.BEDSIDE_OIDC_NAME
					}
				: null
	};
}

/** A database URL with its password hidden, for messages and logs. */
export function redactUrl(url: string | undefined): string | undefined {
	if (url === undefined) return undefined;
	return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** One line saying which database a process uses, with no secret in it. */
export function describeDatabase(target: DatabaseTarget): string {
	return target.kind === 'pg'
		? `PostgreSQL at ${redactUrl(target.url)}`
		: target.dataDir === 'memory://'
			? 'embedded PGlite in memory'
			: `embedded PGlite in ${target.dataDir}`;
}
