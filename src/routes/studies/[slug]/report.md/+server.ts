import { analyseStudy } from '$lib/server/analysis/study-analysis.service';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { markdownReport } from '../../../../../analysis/report';
import type { RequestHandler } from './$types';

/** The analysis report as Markdown. */
export const GET: RequestHandler = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyse');
	const { result, title } = await analyseStudy(event.locals.app.database.db, study.slug, {
		kind: 'user',
		id: user.id
	});
	return new Response(markdownReport(result, title), {
		headers: {
			'content-type': 'text/markdown; charset=utf-8',
			'content-disposition': `attachment; filename="${study.slug}-report.md"`,
			'cache-control': 'no-store'
		}
	});
};
