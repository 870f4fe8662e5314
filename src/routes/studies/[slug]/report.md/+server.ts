import { reportResponse } from '$lib/server/analysis/report-response';
import type { RequestHandler } from './$types';

/** The analysis report as Markdown. */
export const GET: RequestHandler = (event) => reportResponse(event, 'md');
