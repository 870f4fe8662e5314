import type { RequestEvent } from '@sveltejs/kit';
import { htmlReport, markdownReport } from '../../../../analysis/report.ts';
import { requireStudyAccess } from '../auth/guard.ts';
import { analyzeStudy } from './study-analysis.service.ts';

// The analysis report of a study as a download, in either form (owners and analysts).

const FORMATS = {
	md: { render: markdownReport, type: 'text/markdown; charset=utf-8', headers: {} },
	html: {
		render: htmlReport,
		type: 'text/html; charset=utf-8',
		// The file has no script and fetches nothing; say so to the browser too.
		headers: {
			'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
		}
	}
} as const;

export async function reportResponse(
	event: RequestEvent<{ slug: string }>,
	format: keyof typeof FORMATS
): Promise<Response> {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyze');
	const { result, title } = await analyzeStudy(event.locals.app.database.db, study.slug, {
		kind: 'user',
		id: user.id
	});
	const f = FORMATS[format];
	return new Response(f.render(result, title), {
		headers: {
			'content-type': f.type,
			'content-disposition': `attachment; filename="${study.slug}-report.${format}"`,
			'cache-control': 'no-store',
			...f.headers
		}
	});
}
