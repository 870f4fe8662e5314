import { errorFor } from '$lib/server/http-errors';
import { publicPreregistration } from '$lib/server/registry/registry.service';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, params }) => {
	const { markdown } = await publicPreregistration(locals.app.database.db, params.slug).catch((e) =>
		errorFor(e)
	);
	return new Response(markdown, { headers: { 'content-type': 'text/markdown; charset=utf-8' } });
};
