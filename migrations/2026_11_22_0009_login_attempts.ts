import { sql, type Kysely } from 'kysely';

// Sign-in attempts, kept in the database so throttling and lock-out hold across app instances
// (an in-memory counter would reset per instance and per restart).
const statements = [
	`create table login_attempts (
		id bigint generated always as identity primary key,
		email text not null,
		ip text,
		succeeded boolean not null,
		attempted_at timestamptz not null default now()
	)`,
	`create index login_attempts_email_idx on login_attempts (email, attempted_at)`,
	`create index login_attempts_ip_idx on login_attempts (ip, attempted_at)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop table if exists login_attempts`.execute(db);
}
