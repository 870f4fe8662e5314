import { failFor } from '$lib/server/http-errors';
import { fail, redirect } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { amend } from '$lib/server/prereg/prereg.service';
import { parseStudyYaml, protocolToYaml, validateProtocol } from '$lib/server/protocols/study-file';
import { getProtocol, saveProtocolDraft } from '$lib/server/studies/studies.service';
import type { Problem } from '$lib/server/validation/problems';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study } = await requireStudyAccess(event, event.params.slug, 'study.edit');
	const { protocol, version } = await getProtocol(event.locals.app.database.db, study.slug);
	return {
		study: { slug: study.slug, title: study.title, status: study.status },
		version: version.version,
		protocol,
		yaml: protocolToYaml(protocol)
	};
};

const plain = (problems: Problem[]) =>
	problems.map(({ path, message, line }) => ({ path, message, line }));

export const actions: Actions = {
	/** Saves the edited protocol (structured editor: JSON; or the YAML view) as a new draft version. */
	default: async (event) => {
		const { study, user } = await requireStudyAccess(event, event.params.slug, 'study.edit');
		const form = await event.request.formData();
		const mode = form.get('yaml') !== null ? 'yaml' : 'form';
		const text = String(form.get(mode === 'yaml' ? 'yaml' : 'protocol') ?? '');
		const reason = String(form.get('reason') ?? '').trim() || null;
		let result;
		if (mode === 'yaml') {
			result = parseStudyYaml(text);
		} else {
			let value: unknown;
			try {
				value = JSON.parse(text);
			} catch {
				return fail(400, {
					mode,
					text,
					problems: [{ path: '', message: 'the editor sent no readable protocol; reload the page' }]
				});
			}
			result = validateProtocol(value);
		}
		if (!result.ok) return fail(400, { mode, text, problems: plain(result.problems) });
		if (result.protocol.slug !== study.slug) {
			return fail(400, {
				mode,
				text,
				problems: [{ path: 'slug', message: `must stay "${study.slug}"` }]
			});
		}
		const db = event.locals.app.database.db;
		const actor = { kind: 'user' as const, id: user.id };
		let version: number;
		try {
			// A draft takes a new version; a preregistered study takes an amendment, which needs a reason.
			version =
				study.status === 'draft'
					? (await saveProtocolDraft(db, result.protocol, actor, reason)).version.version
					: (await amend(db, study.slug, result.protocol, reason ?? '', actor)).protocolVersion;
		} catch (error) {
			return failFor(error, { mode, text });
		}
		redirect(303, `/studies/${study.slug}?saved=${version}`);
	}
};
