import { sql, type Kysely } from 'kysely';

// Researcher and analyst accounts. Sessions follow the Lucia guide: the cookie holds a random
// token, the table holds only its SHA-256 (hex) as the id, so a leaked table cannot be replayed.
const statements = [
	`create table users (
		id uuid primary key default gen_random_uuid(),
		email text not null check (email = lower(email) and position('@' in email) > 1),
		display_name text not null default '',
		password_hash text not null,
		is_admin boolean not null default false,
		must_change_password boolean not null default false,
		created_at timestamptz not null default now(),
		password_changed_at timestamptz not null default now(),
		disabled_at timestamptz
	)`,
	`create unique index users_email_key on users (email)`,
	`create table sessions (
		id text primary key check (id ~ '^[0-9a-f]{64}$'),
		user_id uuid not null references users (id) on delete cascade,
		created_at timestamptz not null default now(),
		expires_at timestamptz not null
	)`,
	`create index sessions_user_id_idx on sessions (user_id)`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop table if exists sessions`.execute(db);
	await sql`drop table if exists users`.execute(db);
}
