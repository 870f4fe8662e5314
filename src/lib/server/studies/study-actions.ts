import type { StudyStatus } from './studies.repository.ts';

// What the study page may offer next, from the study's status and the person's permissions: the
// page renders these instead of re-encoding the lifecycle. Each irreversible step carries the
// question that is asked before it is taken (the confirmation works without JavaScript: the first
// post answers with the question, the second, confirmed, acts).

export type LifecycleAction = 'preregister' | 'launch' | 'pause' | 'close';

export interface ActionOffer {
	action: LifecycleAction;
	label: string;
	style: 'primary' | 'secondary' | 'danger';
	/** Asked before an irreversible step; null for a step that can be undone. */
	confirm: string | null;
}

const CONFIRM: Record<LifecycleAction, string | null> = {
	preregister:
		'Preregistering locks this protocol version and commits to a randomization seed and to the answer key. None of them can be changed afterwards: later changes are amendments, each with a reason, listed on the public registry.',
	launch:
		'Launching opens the participant link: anyone who has it can take part, and every person who consents is counted in the study. Try the study in test mode first.',
	pause: null,
	close:
		'Closing ends recruitment for good (a closed study never reopens) and reveals the randomization seed and the answer key on the public registry.'
};

/** The lifecycle steps a person may take now, in the order the page shows them. */
export function lifecycleOffers(
	status: StudyStatus,
	may: { preregister: boolean; changeStatus: boolean },
	draftVersion: number | null
): ActionOffer[] {
	const offers: ActionOffer[] = [];
	const offer = (action: LifecycleAction, label: string, style: ActionOffer['style']) =>
		offers.push({ action, label, style, confirm: CONFIRM[action] });
	if (status === 'draft' && may.preregister && draftVersion !== null)
		offer('preregister', `Preregister version ${draftVersion}`, 'secondary');
	if (!may.changeStatus) return offers;
	if (status === 'preregistered') offer('launch', 'Launch recruiting', 'primary');
	if (status === 'paused') offer('launch', 'Resume recruiting', 'primary');
	if (status === 'recruiting') offer('pause', 'Pause', 'secondary');
	if (status === 'preregistered' || status === 'recruiting' || status === 'paused')
		offer('close', 'Close the study and reveal the seed', 'danger');
	return offers;
}

/** The question to ask before `action`, when it is irreversible and the post did not confirm it. */
export function confirmationNeeded(action: LifecycleAction, form: FormData): string | null {
	return form.get('confirm') === 'yes' ? null : CONFIRM[action];
}
