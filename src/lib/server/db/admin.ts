import pg from 'pg';

// Creating and dropping whole databases on a PostgreSQL server: used by the tests (a database per
// test file, cloned from a migrated template) and by `bedside db-types`. Not used by the app.

/** The same server URL pointing at another database. */
export function withDatabaseName(url: string, name: string): string {
	const u = new URL(url);
	u.pathname = `/${name}`;
	return u.toString();
}

function quoteIdent(name: string): string {
	if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name: ${name}`);
	return `"${name}"`;
}

async function onServer<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
	const client = new pg.Client({ connectionString: adminUrl });
	await client.connect();
	try {
		return await work(client);
	} finally {
		await client.end();
	}
}

/** CREATE DATABASE, optionally as a copy of a template (which must have no open connections). */
export async function createDatabase(
	adminUrl: string,
	name: string,
	template?: string
): Promise<string> {
	await onServer(adminUrl, (c) =>
		c.query(
			`create database ${quoteIdent(name)}${template ? ` template ${quoteIdent(template)}` : ''}`
		)
	);
	return withDatabaseName(adminUrl, name);
}

/** DROP DATABASE, closing whatever connections are still open on it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
	await onServer(adminUrl, (c) =>
		c.query(`drop database if exists ${quoteIdent(name)} with (force)`)
	);
}

/** Names of the databases whose name starts with a prefix. */
export async function listDatabases(adminUrl: string, prefix: string): Promise<string[]> {
	return onServer(adminUrl, async (c) => {
		const result = await c.query<{ datname: string }>(
			'select datname from pg_database where starts_with(datname, $1) order by datname',
			[prefix]
		);
		return result.rows.map((r) => r.datname);
	});
}
