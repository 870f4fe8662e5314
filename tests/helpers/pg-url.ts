/** Where the tests find a PostgreSQL server: TEST_DATABASE_URL, else DATABASE_URL, else none. */
export function pgTestServerUrl(): string | undefined {
	return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export interface PgTestContext {
	adminUrl: string;
	template: string;
	/** Names of this run's per-file databases start with it (the run's pid is in it). */
	prefix: string;
}
