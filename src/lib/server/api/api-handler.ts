import { json, type RequestEvent } from '@sveltejs/kit';
import {
	authenticateAccessToken,
	tokenActor,
	tokenRoleIn,
	type TokenPrincipal
} from '../auth/access-tokens.service.ts';
import type { StudyAction } from '../auth/permissions.ts';
import { problemsOf, statusOf } from '../http-errors.ts';
import type { Actor } from '../actor.ts';
import { findStudyBySlug, type StudySummary } from '../studies/studies.repository.ts';

// The HTTP API's door: a personal access token in `Authorization: Bearer …` (never a session
// cookie, so no page can be made to call it on a signed-in researcher's behalf), and every answer
// JSON, errors included: `{ "error": { "status", "message", "problems"? } }`.

export class ApiError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly headers: Record<string, string> = {}
	) {
		super(message);
		this.name = 'ApiError';
	}
}

export function apiError(
	status: number,
	message: string,
	problems?: { path: string; message: string }[]
) {
	return json(
		{ error: { status, message, ...(problems && { problems }) } },
		{
			status,
			headers: { 'cache-control': 'no-store' }
		}
	);
}

/** Wraps an endpoint: domain errors become their status with a JSON body; anything else is a bug. */
export function apiRoute(handler: (event: RequestEvent) => Promise<Response>) {
	return async (event: RequestEvent): Promise<Response> => {
		try {
			return await handler(event);
		} catch (e) {
			if (e instanceof ApiError) {
				const response = apiError(e.status, e.message);
				for (const [k, v] of Object.entries(e.headers)) response.headers.set(k, v);
				return response;
			}
			const status = statusOf(e);
			if (status === undefined) throw e;
			return apiError(status, (e as Error).message, problemsOf(e as Error));
		}
	};
}

/** The token's principal; 401 without a valid one. */
export async function apiPrincipal(event: RequestEvent): Promise<TokenPrincipal> {
	const header = event.request.headers.get('authorization') ?? '';
	const secret = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
	const principal = secret
		? await authenticateAccessToken(event.locals.app.database.db, secret)
		: null;
	if (!principal)
		throw new ApiError(
			401,
			secret
				? 'the token is unknown, expired or revoked'
				: 'send a personal access token: Authorization: Bearer bsd_pat_…',
			{ 'www-authenticate': 'Bearer realm="bedside"' }
		);
	return principal;
}

/**
 * The study, if the token reaches it and its role (within its owner's) allows the action. A study
 * outside the token's scope is 404, as if it did not exist.
 */
export async function apiStudy(
	event: RequestEvent,
	action: StudyAction
): Promise<{ principal: TokenPrincipal; study: StudySummary; actor: Actor }> {
	const principal = await apiPrincipal(event);
	const db = event.locals.app.database.db;
	const study = await findStudyBySlug(db, event.params.slug ?? '');
	const access = study ? await tokenRoleIn(db, principal, study.id) : undefined;
	if (!study || !access) throw new ApiError(404, 'no such study');
	if (!access.may(action))
		throw new ApiError(
			403,
			`this token (${principal.role}; you are ${access.ownerRole}) does not allow ${action}`
		);
	return { principal, study, actor: tokenActor(principal) };
}

export const jsonNoStore = (value: unknown, status = 200) =>
	json(value, { status, headers: { 'cache-control': 'no-store' } });
