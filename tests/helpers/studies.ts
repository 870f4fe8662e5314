import fs from 'node:fs';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { createUser } from '../../src/lib/server/auth/auth.service.ts';
import { upsertMembership, type StudyRole } from '../../src/lib/server/auth/users.repository.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { parseCardYaml } from '../../src/lib/server/cards/card-schema.ts';
import { importCard } from '../../src/lib/server/cards/cards.service.ts';
import type { Queryable } from '../../src/lib/server/db/types.ts';
import { changeStatus, preregister } from '../../src/lib/server/prereg/prereg.service.ts';
import { loadStudyFile } from '../../src/lib/server/protocols/study-file.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import { findCardBySlug } from '../../src/lib/server/cards/cards.repository.ts';
import { saveProtocolDraft } from '../../src/lib/server/studies/studies.service.ts';

/** Screening answers that make a participant of the example protocol eligible. */
export const ELIGIBLE = { adult: 'yes', medical_training: 'none', chatbot_use: 'often' };

export function exampleProtocol(file = 'studies/triage-demo/study.yaml'): StudyProtocol {
	const result = loadStudyFile(file);
	if (!result.ok) throw new Error(`${file} does not validate`);
	return result.protocol;
}

/** Imports the shipped cards once into a database. */
export async function ensureCards(db: Queryable): Promise<void> {
	for (const slug of ['bean-triage-scenarios', 'medical-licensing-exam']) {
		if (await findCardBySlug(db, slug)) continue;
		const parsed = parseCardYaml(fs.readFileSync(`studies/cards/${slug}.yaml`, 'utf8'));
		if (!parsed.ok) throw new Error('card invalid');
		await importCard(db, slug, parsed.card, CLI_ACTOR);
	}
}

/** A copy of an example under a new slug, preregistered with a known seed and launched. */
export async function newRecruitingStudy(
	db: Queryable,
	slug: string,
	change: (p: StudyProtocol) => void = () => {},
	seed = `seed-${slug}`
): Promise<StudyProtocol> {
	await ensureCards(db);
	const protocol = { ...exampleProtocol(), slug };
	// The example is a Prolific study, whose link needs a panel id by default; most tests enrol
	// people directly, so the helper's studies take a bare link (the requirement has its own tests).
	protocol.recruitment = { ...protocol.recruitment, require_panel_id: false };
	change(protocol);
	await saveProtocolDraft(db, protocol, CLI_ACTOR);
	await preregister(db, slug, CLI_ACTOR, { seed });
	await changeStatus(db, slug, 'launch', CLI_ACTOR);
	return protocol;
}

/** A new account with a password and a role in a study (for the browser tests' researchers). */
export async function newMember(
	db: Queryable,
	input: { email: string; password: string; slug: string; role: StudyRole }
): Promise<void> {
	const { user } = await createUser(
		db,
		{ email: input.email, password: input.password },
		CLI_ACTOR
	);
	const study = await findStudyBySlug(db, input.slug);
	if (!study) throw new Error(`no study "${input.slug}"`);
	await upsertMembership(db, user.id, study.id, input.role);
}
