import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, loadConfig } from '../../src/lib/server/config.ts';

function problemsOf(env: Record<string, string>): string[] {
	try {
		loadConfig(env);
	} catch (error) {
		if (error instanceof ConfigError) return error.problems;
		throw error;
	}
	throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
	it('defaults to embedded PGlite in ./.data on port 3000', () => {
		const config = loadConfig({});
		expect(config.port).toBe(3000);
		expect(config.host).toBe('0.0.0.0');
		expect(config.seedDemo).toBe(true);
		expect(config.database).toEqual({ kind: 'pglite', dataDir: path.resolve('.data', 'pglite') });
	});

	it('uses pg when DATABASE_URL is set', () => {
		const config = loadConfig({
			DATABASE_URL: 'postgres://u:p@db:5432/bedside',
			DATABASE_POOL_SIZE: '4'
		});
		expect(config.database).toEqual({
			kind: 'pg',
			url: 'postgres://u:p@db:5432/bedside',
			poolSize: 4
		});
	});

	it('reads the Prolific token and institutional sign-in, never echoing a secret', () => {
		expect(loadConfig({}).prolific).toBeNull();
		expect(loadConfig({}).oidc).toBeNull();
		const config = loadConfig({
			BEDSIDE_PROLIFIC_TOKEN: 'prolific-secret-token',
			BEDSIDE_OIDC_ISSUER: 'https://login.uni.example/',
			BEDSIDE_OIDC_CLIENT_ID: 'bedside',
			BEDSIDE_OIDC_CLIENT_SECRET: 'shh-secret'
		});
		expect(config.prolific).toEqual({
			baseUrl: 'https://api.prolific.com',
			token: 'prolific-secret-token'
		});
		expect(config.oidc).toEqual({
			issuer: 'https://login.uni.example',
			clientId: 'bedside',
			clientSecret: 'shh-secret',
			name: 'your institution'
		});
		expect(problemsOf({ BEDSIDE_OIDC_ISSUER: 'https://login.uni.example' })).toEqual([
			'BEDSIDE_OIDC_ISSUER, BEDSIDE_OIDC_CLIENT_ID and BEDSIDE_OIDC_CLIENT_SECRET: set all three or none'
		]);
		const short = problemsOf({ BEDSIDE_PROLIFIC_TOKEN: 'abc' });
		expect(short).toEqual(['BEDSIDE_PROLIFIC_TOKEN: must be a Prolific API token (got "***")']);
	});

	it('treats an empty variable as unset', () => {
		expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.kind).toBe('pglite');
	});

	it('names every bad variable with what was wrong and what it got', () => {
		const problems = problemsOf({
			PORT: 'eighty',
			ORIGIN: 'bedside.example.org',
			DATABASE_URL: 'mysql://root:secret@db/x',
			BEDSIDE_SEED_DEMO: 'maybe'
		});
		expect(problems).toHaveLength(4);
		expect(problems).toContain('PORT: must be a whole number (got "eighty")');
		expect(problems.find((p) => p.startsWith('ORIGIN:'))).toMatch(/must be a URL/);
		expect(problems.find((p) => p.startsWith('BEDSIDE_SEED_DEMO:'))).toMatch(/must be one of/);
		// The password never appears in a message.
		const dbProblem = problems.find((p) => p.startsWith('DATABASE_URL:'));
		expect(dbProblem).toMatch(/PostgreSQL URL/);
		expect(dbProblem).not.toContain('secret');
	});

	it('refuses ports out of range and trailing slashes on ORIGIN', () => {
		expect(problemsOf({ PORT: '70000' })).toEqual([
			'PORT: must be between 1 and 65535 (got "70000")'
		]);
		expect(problemsOf({ ORIGIN: 'https://bedside.example.org/' })[0]).toMatch(
			/must not end with a slash/
		);
	});

	it('describes the database without its password', () => {
		expect(describeDatabase({ kind: 'pg', url: 'postgres://u:hunter2@db/x', poolSize: 1 })).toBe(
			'PostgreSQL at postgres://u:***@db/x'
		);
	});

	it('reads LLM endpoints by name, with their keys, and refuses a URL that is not one', () => {
		const config = loadConfig({
			BEDSIDE_LLM_BASE_URL: 'http://localhost:11434/v1/',
			BEDSIDE_LLM_API_KEY: 'sk-default',
			BEDSIDE_LLM_HOSTED_BASE_URL: 'https://api.example.org/v1',
			BEDSIDE_LLM_RETRY_SECONDS: '5'
		});
		expect(config.llm).toEqual({
			endpoints: {
				default: { baseUrl: 'http://localhost:11434/v1', apiKey: 'sk-default' },
				hosted: { baseUrl: 'https://api.example.org/v1', apiKey: undefined }
			},
			retryWindowMs: 5000
		});
		expect(loadConfig({}).llm).toEqual({ endpoints: {}, retryWindowMs: 30_000 });
		expect(
			problemsOf({ BEDSIDE_LLM_LOCAL_BASE_URL: 'localhost:8080', BEDSIDE_LLM_RETRY_SECONDS: '0' })
		).toEqual([
			'BEDSIDE_LLM_RETRY_SECONDS: must be at least 1 (got "0")',
			'BEDSIDE_LLM_LOCAL_BASE_URL: must be an http(s) URL such as http://localhost:11434/v1'
		]);
	});
});

describe('the reverse-proxy warning at start', () => {
	it('warns when ORIGIN is public and no address header is configured', async () => {
		const { addressHeaderWarning } = await import('../../src/lib/server/app.ts');
		expect(addressHeaderWarning('https://bedside.example.org', {})).toMatch(
			/ADDRESS_HEADER is not set/
		);
		expect(
			addressHeaderWarning('https://bedside.example.org', { ADDRESS_HEADER: 'x-forwarded-for' })
		).toBeNull();
		expect(addressHeaderWarning('http://localhost:3000', {})).toBeNull();
		expect(addressHeaderWarning(undefined, {})).toBeNull();
	});
});
