import type { Actor } from '../actor.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import type { Queryable } from '../db/types.ts';
import { runningConfig } from '../prereg/prereg.service.ts';
import { allocatedArms } from '../randomization/allocation.service.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { findStudyBySlug } from '../studies/studies.repository.ts';
import { ValidationError } from '../validation/problems.ts';
import { consent } from './journey.service.ts';

// Test mode (as REDCap and Qualtrics have it): researchers go through their own study as a
// participant would, in a chosen arm, without touching its counts, export, analysis or the
// allocation sequence. Test participants are flagged in the database and left out of each.

/** Starts a test participant (consented) and returns the session token for this browser. */
export async function startTestParticipant(
	db: Queryable,
	slug: string,
	armKey: string | null,
	actor: Actor
): Promise<string> {
	const study = await findStudyBySlug(db, slug);
	if (!study) throw new StudyStateError(`no study "${slug}"`, 'not_found');
	if (study.status === 'draft' || study.status === 'closed')
		throw new StudyStateError(
			`study "${slug}" is ${study.status}: test mode runs the preregistered protocol of an open study`,
			'conflict'
		);
	const { protocol } = await runningConfig(db, slug);
	if (armKey !== null && !allocatedArms(protocol).some((a) => a.key === armKey))
		throw new ValidationError([{ path: 'arm', message: `no arm "${armKey}" takes participants` }]);
	const session = await consent(db, slug, {
		agree: true,
		params: new URLSearchParams(),
		isTest: true,
		testArm: armKey ?? undefined
	});
	await recordAuditEvent(db, {
		actorKind: actor.kind,
		actorId: actor.id,
		studyId: study.id,
		action: 'study.test_participant',
		target: slug,
		details: { participant: session.participant.id, arm: armKey ?? 'drawn' }
	});
	return session.token!;
}
