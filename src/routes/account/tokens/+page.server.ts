import { requireUser } from '$lib/server/auth/guard';
import {
	accessTokensOf,
	createAccessToken,
	revokeAccessToken
} from '$lib/server/auth/access-tokens.service';
import { studiesOfUser } from '$lib/server/auth/users.repository';
import { failFor } from '$lib/server/http-errors';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const user = requireUser(event);
	const db = event.locals.app.database.db;
	const studies = await studiesOfUser(db, user.id);
	const slugOf = new Map(studies.map((s) => [s.id, s.slug]));
	const now = Date.now();
	return {
		studies: studies.map((s) => ({ slug: s.slug, title: s.title, role: s.role })),
		tokens: (await accessTokensOf(db, user)).map((t) => ({
			id: t.id,
			name: t.name,
			role: t.role,
			studies: t.studyIds.map((id) => slugOf.get(id) ?? '(no longer a member)'),
			createdAt: t.createdAt.toISOString(),
			expiresAt: t.expiresAt.toISOString(),
			lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
			state: t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : 'active'
		}))
	};
};

export const actions: Actions = {
	create: async (event) => {
		const user = requireUser(event);
		const form = await event.request.formData();
		const input = {
			name: String(form.get('name') ?? ''),
			role: String(form.get('role') ?? ''),
			studies: form.getAll('studies').map(String),
			expiresInDays: Number(form.get('expires_in_days') ?? '')
		};
		try {
			const token = await createAccessToken(event.locals.app.database.db, user, input);
			// Shown once: only its hash is kept.
			return { created: { secret: token.secret, expiresAt: token.expiresAt.toISOString() } };
		} catch (e) {
			return failFor(e, { name: input.name });
		}
	},
	revoke: async (event) => {
		const user = requireUser(event);
		const id = String((await event.request.formData()).get('id') ?? '');
		try {
			await revokeAccessToken(event.locals.app.database.db, user, id);
			return { revoked: true };
		} catch (e) {
			return failFor(e);
		}
	}
};
