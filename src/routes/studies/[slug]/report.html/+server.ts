import { reportResponse } from '$lib/server/analysis/report-response';
import type { RequestHandler } from './$types';

/** The analysis report as one self-contained HTML file (inline SVG charts, no script). */
export const GET: RequestHandler = (event) => reportResponse(event, 'html');
