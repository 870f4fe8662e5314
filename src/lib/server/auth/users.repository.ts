import type { Queryable } from '../db/types.ts';

export type StudyRole = 'owner' | 'researcher' | 'analyst' | 'viewer';

export interface User {
	id: string;
	email: string;
	displayName: string;
	isAdmin: boolean;
	mustChangePassword: boolean;
	/** When the one-time password stops working (null once the person chose their own). */
	oneTimePasswordExpiresAt: Date | null;
	disabled: boolean;
}

interface UserRow {
	id: string;
	email: string;
	display_name: string;
	is_admin: boolean;
	must_change_password: boolean;
	one_time_password_expires_at: Date | null;
	disabled_at: Date | null;
}

const toUser = (r: UserRow): User => ({
	id: r.id,
	email: r.email,
	displayName: r.display_name,
	isAdmin: r.is_admin,
	mustChangePassword: r.must_change_password,
	oneTimePasswordExpiresAt: r.one_time_password_expires_at,
	disabled: r.disabled_at !== null
});

const USER_COLUMNS = [
	'id',
	'email',
	'display_name',
	'is_admin',
	'must_change_password',
	'one_time_password_expires_at',
	'disabled_at'
] as const;

export async function insertUser(
	db: Queryable,
	u: {
		email: string;
		displayName: string;
		passwordHash: string;
		isAdmin: boolean;
		mustChangePassword: boolean;
		oneTimePasswordExpiresAt: Date | null;
	}
): Promise<User> {
	const row = await db
		.insertInto('users')
		.values({
			email: u.email,
			display_name: u.displayName,
			password_hash: u.passwordHash,
			is_admin: u.isAdmin,
			must_change_password: u.mustChangePassword,
			one_time_password_expires_at: u.oneTimePasswordExpiresAt
		})
		.returning(USER_COLUMNS)
		.executeTakeFirstOrThrow();
	return toUser(row);
}

export async function countUsers(db: Queryable): Promise<number> {
	const row = await db
		.selectFrom('users')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

export async function findUserByEmail(
	db: Queryable,
	email: string
): Promise<(User & { passwordHash: string }) | undefined> {
	const row = await db
		.selectFrom('users')
		.select([...USER_COLUMNS, 'password_hash'])
		.where('email', '=', email)
		.executeTakeFirst();
	return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function findUserById(
	db: Queryable,
	id: string
): Promise<(User & { passwordHash: string }) | undefined> {
	const row = await db
		.selectFrom('users')
		.select([...USER_COLUMNS, 'password_hash'])
		.where('id', '=', id)
		.executeTakeFirst();
	return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function updatePassword(
	db: Queryable,
	userId: string,
	passwordHash: string,
	at: Date
): Promise<void> {
	await db
		.updateTable('users')
		.set({
			password_hash: passwordHash,
			must_change_password: false,
			one_time_password_expires_at: null,
			password_changed_at: at
		})
		.where('id', '=', userId)
		.execute();
}

/** A new one-time password (hash) that must be changed at sign-in, valid until `expiresAt`. */
export async function setOneTimePassword(
	db: Queryable,
	userId: string,
	passwordHash: string,
	expiresAt: Date
): Promise<void> {
	await db
		.updateTable('users')
		.set({
			password_hash: passwordHash,
			must_change_password: true,
			one_time_password_expires_at: expiresAt
		})
		.where('id', '=', userId)
		.execute();
}

export async function upsertMembership(
	db: Queryable,
	userId: string,
	studyId: string,
	role: StudyRole
): Promise<void> {
	await db
		.insertInto('memberships')
		.values({ user_id: userId, study_id: studyId, role })
		.onConflict((oc) => oc.columns(['user_id', 'study_id']).doUpdateSet({ role }))
		.execute();
}

export async function roleInStudy(
	db: Queryable,
	userId: string,
	studyId: string
): Promise<StudyRole | undefined> {
	const row = await db
		.selectFrom('memberships')
		.select('role')
		.where('user_id', '=', userId)
		.where('study_id', '=', studyId)
		.executeTakeFirst();
	return row?.role as StudyRole | undefined;
}

/** The studies a user is a member of, with their role in each. */
export async function studiesOfUser(
	db: Queryable,
	userId: string
): Promise<
	{ id: string; slug: string; title: string; status: string; role: StudyRole; updatedAt: Date }[]
> {
	const rows = await db
		.selectFrom('memberships')
		.innerJoin('studies', 'studies.id', 'memberships.study_id')
		.select([
			'studies.id',
			'studies.slug',
			'studies.title',
			'studies.status',
			'memberships.role',
			'studies.updated_at'
		])
		.where('memberships.user_id', '=', userId)
		.orderBy('studies.updated_at', 'desc')
		.execute();
	return rows.map((r) => ({
		id: r.id,
		slug: r.slug,
		title: r.title,
		status: r.status,
		role: r.role as StudyRole,
		updatedAt: r.updated_at
	}));
}

/** Every account, for admins. */
export async function listUsers(db: Queryable): Promise<User[]> {
	const rows = await db.selectFrom('users').select(USER_COLUMNS).orderBy('email').execute();
	return rows.map(toUser);
}

/** The members of a study with their roles. */
export async function membersOfStudy(
	db: Queryable,
	studyId: string
): Promise<{ email: string; displayName: string; role: StudyRole }[]> {
	const rows = await db
		.selectFrom('memberships')
		.innerJoin('users', 'users.id', 'memberships.user_id')
		.select(['users.email', 'users.display_name', 'memberships.role'])
		.where('memberships.study_id', '=', studyId)
		.orderBy('users.email')
		.execute();
	return rows.map((r) => ({
		email: r.email,
		displayName: r.display_name,
		role: r.role as StudyRole
	}));
}

/** How many owners a study has; the row lock keeps two demotions from both passing the check. */
export async function lockOwners(db: Queryable, studyId: string): Promise<string[]> {
	const rows = await db
		.selectFrom('memberships')
		.select('user_id')
		.where('study_id', '=', studyId)
		.where('role', '=', 'owner')
		.forUpdate()
		.execute();
	return rows.map((r) => r.user_id);
}
