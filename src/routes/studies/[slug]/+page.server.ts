import { fail, redirect } from '@sveltejs/kit';
import { requireStudyAccess } from '$lib/server/auth/guard';
import { grantMembership, studyMembers } from '$lib/server/auth/accounts.service';
import { can } from '$lib/server/auth/permissions';
import { changeStatus, preregister } from '$lib/server/prereg/prereg.service';
import { problemsOf, statusOf } from '$lib/server/http-errors';
import { PARTICIPANT_COOKIE } from '$lib/server/participants/entry.service';
import { startTestParticipant } from '$lib/server/participants/test-mode.service';
import {
	confirmationNeeded,
	lifecycleOffers,
	type LifecycleAction
} from '$lib/server/studies/study-actions';
import { studyOverview } from '$lib/server/studies/study-overview.service';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { study, role } = await requireStudyAccess(event, event.params.slug, 'study.view');
	const may = {
		edit: can(role, 'study.edit'),
		preregister: can(role, 'study.preregister'),
		changeStatus: can(role, 'study.status'),
		test: can(role, 'study.test'),
		code: can(role, 'study.code'),
		export: can(role, 'study.export'),
		import: can(role, 'study.import'),
		audit: can(role, 'study.audit'),
		analyze: can(role, 'study.analyze'),
		members: can(role, 'study.members'),
		panel: can(role, 'study.panel')
	};
	const overview = await studyOverview(event.locals.app.database.db, study);
	const link = `${event.url.origin}/s/${study.slug}`;
	const open = study.status !== 'draft' && study.status !== 'closed';
	return {
		study: { slug: study.slug, title: study.title, status: study.status },
		role,
		may,
		offers: lifecycleOffers(study.status, may, overview.versions[0]?.version ?? null),
		links: open
			? {
					participant: link,
					prolific:
						overview.protocol?.recruitment.panel === 'prolific'
							? `${link}?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}`
							: null,
					recruiting: study.status === 'recruiting'
				}
			: null,
		testArms:
			open && may.test && overview.protocol
				? overview.protocol.arms
						.filter((a) => a.kind !== 'llm_alone')
						.map((a) => ({ key: a.id, label: a.label }))
				: [],
		members: may.members ? await studyMembers(event.locals.app.database.db, study.id) : [],
		...overview
	};
};

/**
 * Runs a step and turns a refused one into a message the page shows, in the words of what was
 * refused: the protocol's problems (preregistering), or the form's (members, test mode).
 */
async function step(work: () => Promise<string>, refused: 'protocol' | 'form' = 'form') {
	try {
		return { done: await work() };
	} catch (error) {
		const status = statusOf(error);
		if (status === undefined) throw error;
		const problems = problemsOf(error as Error);
		if (status !== 400) return fail(status, { message: problems[0]!.message });
		return fail(400, {
			message:
				refused === 'protocol'
					? `The protocol has ${problems.length} problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`
					: `Not done: ${problems.map((p) => p.message).join('; ')}.`
		});
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
		const question = confirmationNeeded('preregister', await event.request.formData());
		if (question) return fail(400, { confirm: { action: 'preregister', question } });
		return step(async () => {
			const p = await preregister(event.locals.app.database.db, event.params.slug, {
				kind: 'user',
				id: user.id
			});
			return `Preregistered protocol version ${p.protocolVersion} (SHA-256 ${p.sha256}).`;
		}, 'protocol');
	},
	status: async (event) => {
		const { user } = await requireStudyAccess(event, event.params.slug, 'study.status');
		const form = await event.request.formData();
		const action = String(form.get('action')) as LifecycleAction;
		if (action !== 'launch' && action !== 'pause' && action !== 'close')
			return fail(400, { message: 'Unknown action.' });
		const question = confirmationNeeded(action, form);
		if (question) return fail(400, { confirm: { action, question } });
		return step(async () => {
			const status = await changeStatus(event.locals.app.database.db, event.params.slug, action, {
				kind: 'user',
				id: user.id
			});
			return `The study is now ${status}.`;
		});
	},
	/** Test mode: this browser becomes a flagged test participant of the study. */
	test: async (event) => {
		const { user } = await requireStudyAccess(event, event.params.slug, 'study.test');
		const arm = String((await event.request.formData()).get('arm') ?? '');
		const result = await step(async () => {
			const token = await startTestParticipant(
				event.locals.app.database.db,
				event.params.slug,
				arm === '' ? null : arm,
				{ kind: 'user', id: user.id }
			);
			event.cookies.set(PARTICIPANT_COOKIE, token, {
				path: `/s/${event.params.slug}`,
				httpOnly: true,
				sameSite: 'lax',
				secure: event.url.protocol === 'https:',
				maxAge: 60 * 60 * 24
			});
			return token;
		});
		if ('done' in result) redirect(303, `/s/${event.params.slug}`);
		return result;
	}
};
