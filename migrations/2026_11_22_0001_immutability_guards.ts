import { sql, type Kysely } from 'kysely';

// Trigger functions that make locked rows unchangeable in the database itself, whoever connects.
// SQLSTATE BS001 marks "refused because immutable" so the app can answer 409 with the message.
const statements = [
	`create function bedside_refuse_change() returns trigger language plpgsql as $$
	begin
		raise exception '% on % refused: %', tg_op, tg_table_name, tg_argv[0]
			using errcode = 'BS001';
	end
	$$`
];

export async function up(db: Kysely<unknown>): Promise<void> {
	for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
	await sql`drop function if exists bedside_refuse_change()`.execute(db);
}
