import type { StudyRole } from './users.repository.ts';

// Who may do what in a study. Every route and endpoint asks `can(role, action)`; nothing else
// grants access. Admins manage accounts; inside a study they need a membership like anyone.

const MATRIX = {
	'study.view': ['owner', 'researcher', 'analyst', 'viewer'],
	'study.edit': ['owner', 'researcher'],
	'study.preregister': ['owner', 'researcher'],
	'study.status': ['owner', 'researcher'],
	'study.test': ['owner', 'researcher'],
	'study.code': ['owner', 'researcher', 'analyst'],
	'study.export': ['owner', 'analyst'],
	'study.import': ['owner', 'analyst'],
	'study.analyze': ['owner', 'analyst'],
	'study.audit': ['owner'],
	'study.members': ['owner'],
	'study.panel': ['owner']
} as const satisfies Record<string, readonly StudyRole[]>;

export type StudyAction = keyof typeof MATRIX;

export function can(role: StudyRole | undefined, action: StudyAction): boolean {
	return role !== undefined && (MATRIX[action] as readonly StudyRole[]).includes(role);
}

/** Whether everything `narrower` may do, `wider` may do too (a token's role within its owner's). */
export function roleWithin(narrower: StudyRole, wider: StudyRole): boolean {
	return (Object.keys(MATRIX) as StudyAction[]).every((a) => !can(narrower, a) || can(wider, a));
}
