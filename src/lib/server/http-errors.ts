import { error, fail, type ActionFailure } from '@sveltejs/kit';
import { ExportError } from '../../../analysis/io/export-reader.ts';
import { ChatBusyError } from './assistant/admission.ts';
import { ChatRefusedError } from './assistant/chat.service.ts';
import { EndpointNotConfiguredError } from './assistant/providers.ts';
import { NotAllowedError } from './auth/accounts.service.ts';
import { EvidenceError } from './cards/evidence.service.ts';
import { FollowUpClosedError } from './follow-ups/follow-ups.service.ts';
import { ResumeRefusedError } from './participants/entry.service.ts';
import {
	EnrolmentThrottledError,
	PanelIdRequiredError,
	StudyNotOpenError
} from './participants/journey.service.ts';
import { RunningConfigError } from './prereg/prereg.service.ts';
import { StudyStateError } from './studies/studies.service.ts';
import { ValidationError } from './validation/problems.ts';

// The one map from the domain's errors to HTTP answers. Routes catch, then call failFor (form
// actions: the page shows the problems) or errorFor (loads and endpoints); anything not listed is
// a bug and is rethrown, to become a 500 that is logged.
//
//   input that is wrong (ValidationError, a missing panel id, evidence asked too early) → 400
//   not allowed for this person (NotAllowedError) → 403
//   no such study (StudyStateError 'not_found'), a follow-up link that is not one → 404
//   not now, in this state (a refused lifecycle step, a study not running as registered, a study
//   not taking participants, a chat message that cannot be taken, an endpoint not configured, a
//   follow-up link not open yet or expired) → 409
//   too many attempts (resume codes, enrolments from one address) → 429
//   too many chat messages at once on this worker (ChatBusyError; the page keeps the text) → 503

/** One thing to tell the person, located by the form field it concerns ('' for the form). */
export interface FormProblem {
	path: string;
	message: string;
}

/** The HTTP status a domain error stands for, or undefined when it is not a domain error. */
export function statusOf(e: unknown): number | undefined {
	if (
		e instanceof ValidationError ||
		e instanceof PanelIdRequiredError ||
		e instanceof EvidenceError ||
		e instanceof ExportError
	)
		return 400;
	if (e instanceof NotAllowedError) return 403;
	if (e instanceof FollowUpClosedError) return e.reason === 'invalid' ? 404 : 409;
	if (e instanceof StudyStateError) return e.reason === 'not_found' ? 404 : 409;
	if (
		e instanceof RunningConfigError ||
		e instanceof StudyNotOpenError ||
		e instanceof ChatRefusedError ||
		e instanceof EndpointNotConfiguredError
	)
		return 409;
	if (e instanceof ResumeRefusedError || e instanceof EnrolmentThrottledError) return 429;
	if (e instanceof ChatBusyError) return 503;
	return undefined;
}

/** The problems a form shows: each validation problem at its field, anything else as one message. */
export function problemsOf(e: Error): FormProblem[] {
	return e instanceof ValidationError
		? e.problems.map(({ path, message }) => ({ path, message }))
		: [{ path: '', message: e.message }];
}

/** For a form action: the domain error as a failure the page shows (with `extra` data), or rethrown. */
export function failFor<T extends Record<string, unknown>>(
	e: unknown,
	extra: T = {} as T
): ActionFailure<T & { problems: FormProblem[] }> {
	const status = statusOf(e);
	if (status === undefined) throw e;
	return fail(status, { ...extra, problems: problemsOf(e as Error) });
}

/** For a load or an endpoint: the domain error as an HTTP error with its message, or rethrown. */
export function errorFor(e: unknown, message?: string): never {
	const status = statusOf(e);
	if (status === undefined) throw e;
	error(status, message ?? (e as Error).message);
}
