import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { SYSTEM_ACTOR } from '../actor.ts';
import { parseCardYaml } from '../cards/card-schema.ts';
import { importCard } from '../cards/cards.service.ts';
import type { DB } from '../db/schema.ts';
import { parseStudyYaml } from '../protocols/study-file.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { createUser } from '../auth/auth.service.ts';
import { countUsers, upsertMembership } from '../auth/users.repository.ts';
import { countStudies, findStudyBySlug, lockSeeding } from '../studies/studies.repository.ts';
import { saveProtocolDraft } from '../studies/studies.service.ts';
import { ValidationError } from '../validation/problems.ts';

// On first start an empty database gets the example study `triage-demo` (a draft) and the
// BenchmarkCards it tests, so a new install has something real to look at. Its scenarios are
// NOT clinically validated: it is an example, not a study to run as is.

export const DEMO_STUDY_SLUG = 'triage-demo';
export const DEMO_CARD_SLUGS = ['bean-triage-scenarios', 'medical-licensing-exam'] as const;

/** The text of the files the demo is made of (read from disk, or bundled into the server). */
export interface DemoSources {
	studyYaml: string;
	cards: { slug: string; yaml: string }[];
}

/** Reads the demo files from a checkout's `studies/` folder. */
export function demoSourcesFromDisk(studiesDir = path.resolve('studies')): DemoSources {
	return {
		studyYaml: fs.readFileSync(path.join(studiesDir, DEMO_STUDY_SLUG, 'study.yaml'), 'utf8'),
		cards: DEMO_CARD_SLUGS.map((slug) => ({
			slug,
			yaml: fs.readFileSync(path.join(studiesDir, 'cards', `${slug}.yaml`), 'utf8')
		}))
	};
}

/**
 * Seeds the demo when the database holds no study at all. Safe to call from several instances at
 * once: an advisory lock makes the others wait and then find the study. Returns whether it seeded.
 */
export async function seedDemoStudyIfEmpty(
	db: Kysely<DB>,
	sources: DemoSources,
	llmEndpoints: readonly string[] = []
): Promise<boolean> {
	const study = parseStudyYaml(sources.studyYaml);
	if (!study.ok) throw new ValidationError(study.problems, `demo study ${DEMO_STUDY_SLUG}`);
	const protocol = withScriptedFallback(study.protocol, llmEndpoints);
	const cards = sources.cards.map(({ slug, yaml }) => {
		const card = parseCardYaml(yaml);
		if (!card.ok) throw new ValidationError(card.problems, `demo card ${slug}`);
		return { slug, card: card.card };
	});
	return db.transaction().execute(async (trx) => {
		await lockSeeding(trx);
		if ((await countStudies(trx)) > 0) return false;
		// The services join this transaction: cards and study land together or not at all.
		for (const { slug, card } of cards) await importCard(trx, slug, card, SYSTEM_ACTOR);
		await saveProtocolDraft(trx, protocol, SYSTEM_ACTOR, 'example study seeded on first start');
		return true;
	});
}

/**
 * With no LLM endpoint configured, the demo's LLM arms get the demo's scripted assistant instead
 * (labelled so), decided before the draft is saved: what is later preregistered is what runs.
 */
export function withScriptedFallback(
	protocol: StudyProtocol,
	endpoints: readonly string[]
): StudyProtocol {
	const script = protocol.arms.find((a) => a.assistant?.provider === 'scripted')?.assistant;
	if (!script) return protocol;
	return {
		...protocol,
		arms: protocol.arms.map((arm) =>
			arm.assistant?.provider === 'openai-compatible' &&
			!endpoints.includes(arm.assistant.endpoint ?? 'default')
				? {
						...arm,
						label: `${arm.label}: scripted, not an LLM (no endpoint was configured)`,
						assistant: { ...script, max_turns: arm.assistant.max_turns }
					}
				: arm
		)
	};
}

export const DEMO_ADMIN_EMAIL = 'admin@bedside.local';

/**
 * On a server with no account at all, creates an admin with a one-time password (to be changed
 * at first sign-in) who owns the demo study. Returns the credentials to print once, or null.
 */
export async function seedDemoAdminIfNoUsers(
	db: Kysely<DB>
): Promise<{ email: string; password: string } | null> {
	return db.transaction().execute(async (trx) => {
		await lockSeeding(trx);
		if ((await countUsers(trx)) > 0) return null;
		const { user, oneTimePassword } = await createUser(
			trx,
			{ email: DEMO_ADMIN_EMAIL, displayName: 'Demo admin', isAdmin: true },
			SYSTEM_ACTOR
		);
		const study = await findStudyBySlug(trx, DEMO_STUDY_SLUG);
		if (study) await upsertMembership(trx, user.id, study.id, 'owner');
		return { email: user.email, password: oneTimePassword! };
	});
}
