import { json } from '@sveltejs/kit';
import { checkHealth } from '$lib/server/health/health.service';
import type { RequestHandler } from './$types';

/** Liveness and readiness for load balancers: 200 when the database answers, 503 otherwise. */
export const GET: RequestHandler = async ({ locals }) => {
	const health = await checkHealth(locals.app);
	return json(health, {
		status: health.status === 'down' ? 503 : 200,
		headers: { 'cache-control': 'no-store' }
	});
};
