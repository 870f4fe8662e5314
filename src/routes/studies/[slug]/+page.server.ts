import { fail } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { grantMembership } from '$lib/server/auth/accounts.service';
import { can } from '$lib/server/auth/permissions';
import { membersOfStudy } from '$lib/server/auth/users.repository';
import { changeStatus, preregister, RunningConfigError } from '$lib/server/prereg/prereg.service';
import { studyOverview } from '$lib/server/studies/study-overview.service';
import { StudyStateError } from '$lib/server/studies/studies.service';
import { ValidationError } from '$lib/server/validation/problems';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, role } = await requireStudyAccess(event, event.params.slug, 'study.view');
	return {
		study: { slug: study.slug, title: study.title, status: study.status },
		role,
		may: {
			edit: can(role, 'study.edit'),
			preregister: can(role, 'study.preregister'),
			changeStatus: can(role, 'study.status'),
			code: can(role, 'study.code'),
			export: can(role, 'study.export'),
			import: can(role, 'study.import'),
			audit: can(role, 'study.audit'),
			analyse: can(role, 'study.analyse'),
			members: can(role, 'study.members')
		},
		members: can(role, 'study.members')
			? await membersOfStudy(event.locals.app.database.db, study.id)
			: [],
		...(await studyOverview(event.locals.app.database.db, study))
	};
};

/** Runs a lifecycle step and turns a refused one into a message the page shows. */
async function step(work: () => Promise<string>) {
	try {
		return { done: await work() };
	} catch (error) {
		if (error instanceof StudyStateError || error instanceof RunningConfigError)
			return fail(409, { message: error.message });
		if (error instanceof ValidationError) {
			return fail(400, {
				message: `The protocol has ${error.problems.length} problem(s): ${error.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`
			});
		}
		throw error;
	}
}

export const actions: Actions = {
	member: async (event) => {
		const { user } = await requireStudyAccess(event, event.params.slug, 'study.members');
		const form = await event.request.formData();
		return step(async () => {
			const granted = await grantMembership(
				event.locals.app.database.db,
				{
					email: String(form.get('email') ?? ''),
					slug: event.params.slug,
					role: String(form.get('role') ?? '')
				},
				{ kind: 'user', id: user.id }
			);
			return `${granted.email} is now ${granted.role} of this study.`;
		});
	},
	preregister: async (event) => {
		const { user } = await requireStudyAccess(event, event.params.slug, 'study.preregister');
		return step(async () => {
			const p = await preregister(event.locals.app.database.db, event.params.slug, {
				kind: 'user',
				id: user.id
			});
			return `Preregistered protocol version ${p.protocolVersion} (SHA-256 ${p.sha256}).`;
		});
	},
	status: async (event) => {
		const { user } = await requireStudyAccess(event, event.params.slug, 'study.status');
		const action = String((await event.request.formData()).get('action'));
		if (action !== 'launch' && action !== 'pause' && action !== 'close')
			return fail(400, { message: 'Unknown action.' });
		return step(async () => {
			const status = await changeStatus(event.locals.app.database.db, event.params.slug, action, {
				kind: 'user',
				id: user.id
			});
			return `The study is now ${status}.`;
		});
	}
};
