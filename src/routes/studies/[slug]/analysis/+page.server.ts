import { error, fail } from '@sveltejs/kit';
import { analyzeStudy } from '$lib/server/analysis/study-analysis.service';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { EvidenceError, writeStudyEvidence } from '$lib/server/cards/evidence.service';
import { RunningConfigError } from '$lib/server/prereg/prereg.service';
import { ExportError } from '../../../../../analysis/io/export-reader';
import { reportBlocks } from '../../../../../analysis/report';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyze');
	const summary = { slug: study.slug, title: study.title, closed: study.status === 'closed' };
	try {
		const { result, title } = await analyzeStudy(event.locals.app.database.db, study.slug, {
			kind: 'user',
			id: user.id
		});
		// An interim look before anyone has decided is legitimate (the flow so far is worth seeing),
		// but the page says plainly that there is nothing to estimate yet.
		return {
			study: summary,
			blocks: reportBlocks(result, title),
			problem: null,
			noDecisions: !result.arms.some((a) => a.n > 0)
		};
	} catch (e) {
		if (e instanceof RunningConfigError) error(409, 'Only a preregistered study can be analysed.');
		if (e instanceof ExportError)
			return { study: summary, blocks: null, problem: e.message, noDecisions: false };
		throw e;
	}
};

export const actions: Actions = {
	/** Writes the current estimates back as evidence on the card assumptions the study tests. */
	evidence: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.analyze');
		const actor = { kind: 'user' as const, id: user.id };
		const db = event.locals.app.database.db;
		try {
			const { result } = await analyzeStudy(db, study.slug, actor);
			const written = await writeStudyEvidence(db, study.slug, result, actor);
			return { evidence: written };
		} catch (e) {
			if (e instanceof EvidenceError || e instanceof ExportError)
				return fail(400, { evidenceProblem: e.message });
			if (e instanceof RunningConfigError)
				return fail(409, { evidenceProblem: 'Only a preregistered study can be analysed.' });
			throw e;
		}
	}
};
