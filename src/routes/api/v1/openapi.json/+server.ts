import { json } from '@sveltejs/kit';
import { OPENAPI } from '$lib/server/api/openapi';
import type { RequestHandler } from './$types';

/** The API's OpenAPI 3.1 description (no token needed). */
export const GET: RequestHandler = () => json(OPENAPI);
