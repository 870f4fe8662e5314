import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import { findStudyBySlug, type StudySummary } from '../studies/studies.repository.ts';
import { can, type StudyAction } from './permissions.ts';
import { roleInStudy, type StudyRole, type User } from './users.repository.ts';

/** The signed-in user, or a redirect to the sign-in page that comes back here afterwards. */
export function requireUser(event: RequestEvent): User {
	const user = event.locals.user;
	if (!user)
		redirect(303, `/login?next=${encodeURIComponent(event.url.pathname + event.url.search)}`);
	if (user.mustChangePassword && event.url.pathname !== '/account/password')
		redirect(303, '/account/password');
	return user;
}

/**
 * The study and the user's role in it, if the role allows the action. A study the user is not a
 * member of is answered 404, as if it did not exist: its name is not confirmed to outsiders.
 */
export async function requireStudyAccess(
	event: RequestEvent,
	slug: string,
	action: StudyAction
): Promise<{ user: User; study: StudySummary; role: StudyRole }> {
	const user = requireUser(event);
	const db = event.locals.app.database.db;
	const study = await findStudyBySlug(db, slug);
	const role = study ? await roleInStudy(db, user.id, study.id) : undefined;
	if (!study || !role) error(404, 'No such study');
	if (!can(role, action)) error(403, `Your role in this study (${role}) does not allow this`);
	return { user, study, role };
}

/** Only same-site paths are followed after sign-in: an open redirect would help phishing. */
export function safeNext(next: string | null): string {
	return next && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/studies';
}
