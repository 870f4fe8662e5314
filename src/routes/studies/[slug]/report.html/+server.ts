import { analyseStudy } from '$lib/server/analysis/study-analysis.service';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { htmlReport } from '../../../../../analysis/report';
import type { RequestHandler } from './$types';

/** The analysis report as one self-contained HTML file (inline SVG charts, no script). */
export const GET: RequestHandler = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyse');
	const { result, title } = await analyseStudy(event.locals.app.database.db, study.slug, {
		kind: 'user',
		id: user.id
	});
	return new Response(htmlReport(result, title), {
		headers: {
			'content-type': 'text/html; charset=utf-8',
			'content-disposition': `attachment; filename="${study.slug}-report.html"`,
			'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
			'cache-control': 'no-store'
		}
	});
};
