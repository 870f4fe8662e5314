import { failFor } from '$lib/server/http-errors';
import { fail } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import {
	importableOutcomes,
	importOutcomes,
	MAX_IMPORT_BYTES
} from '$lib/server/outcomes/outcome-import.service';
import { RunningConfigError, verifyRunningConfig } from '$lib/server/prereg/prereg.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study } = await requireStudyAccess(event, event.params.slug, 'study.import');
	try {
		const { protocol } = await verifyRunningConfig(event.locals.app.database.db, study.slug);
		return {
			study: { slug: study.slug, title: study.title },
			outcomes: importableOutcomes(protocol).map((o) => ({ name: o.name, kind: o.kind })),
			maxMegabytes: MAX_IMPORT_BYTES / 1024 / 1024
		};
	} catch (e) {
		if (e instanceof RunningConfigError)
			return { study: { slug: study.slug, title: study.title }, outcomes: [], maxMegabytes: 0 };
		throw e;
	}
};

export const actions: Actions = {
	default: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.import');
		const form = await event.request.formData();
		const file = form.get('file');
		if (!(file instanceof File) || file.size === 0)
			return fail(400, { problems: [{ path: 'file', message: 'choose a CSV file' }] });
		if (file.size > MAX_IMPORT_BYTES)
			return fail(413, {
				problems: [{ path: 'file', message: `is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB` }]
			});
		try {
			const result = await importOutcomes(
				event.locals.app.database.db,
				study.slug,
				await file.text(),
				{ kind: 'user', id: user.id }
			);
			return { imported: result.imported, measures: result.measures };
		} catch (e) {
			return failFor(e);
		}
	}
};
