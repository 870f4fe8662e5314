import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { recordAuditEvent } from '../audit/audit.repository.ts';
import { sha256OfJson } from '../protocols/hash.ts';
import {
	countStudies,
	insertArms,
	insertProtocolVersion,
	insertScenarios,
	insertStudy,
	lockSeeding,
	type NewArm,
	type NewScenario
} from '../studies/studies.repository.ts';

// A small study seeded on first start so a new install has something to look at. The scenarios
// are written for this project and are NOT clinically validated: a demo, not a study to run.

export const DEMO_STUDY_SLUG = 'demo';

const dispositionScale = [
	'self_care',
	'routine_gp',
	'urgent_primary_care',
	'emergency_department',
	'ambulance'
];

const arms: NewArm[] = [
	{
		key: 'control',
		kind: 'control',
		label: 'Control: usual sources',
		allocationWeight: 1,
		assistantConfig: null
	},
	{
		key: 'scripted',
		kind: 'llm_assisted',
		label: 'Assistant (scripted, not an LLM)',
		allocationWeight: 1,
		assistantConfig: { provider: 'scripted', model: 'scripted-demo', maxTurns: 10 }
	}
];

const scenarios: NewScenario[] = [
	{
		key: 'sore-throat',
		title: 'Sore throat for two days',
		participantText:
			'You have had a sore throat for two days. It hurts to swallow but you can drink normally. ' +
			'You feel a bit tired and your temperature this morning was 37.8 °C. You have no trouble breathing.',
		benchmarkPrompt:
			'A 24-year-old with 2 days of sore throat, odynophagia, tolerating fluids, T 37.8 °C, no stridor ' +
			'or drooling, no trismus. What is the most likely diagnosis and the appropriate disposition?',
		correctDisposition: 'self_care',
		relevantConditions: [
			{
				id: 'viral-pharyngitis',
				name: 'Viral pharyngitis',
				synonyms: ['sore throat', 'throat infection']
			}
		],
		redFlags: ['difficulty breathing', 'drooling', 'unable to swallow fluids']
	},
	{
		key: 'chest-pain',
		title: 'Chest tightness while walking',
		participantText:
			'You are 58. For the last hour you have had a heavy, tight feeling in the middle of your chest that ' +
			'spreads to your left arm. You feel sweaty and a little sick. It started while you were walking the dog.',
		benchmarkPrompt:
			'A 58-year-old with 1 hour of central crushing chest pain radiating to the left arm, diaphoresis and ' +
			'nausea, onset on exertion. What is the most likely diagnosis and the appropriate disposition?',
		correctDisposition: 'ambulance',
		relevantConditions: [
			{
				id: 'acute-coronary-syndrome',
				name: 'Acute coronary syndrome',
				synonyms: ['heart attack', 'myocardial infarction', 'MI', 'angina']
			}
		],
		redFlags: ['chest pain with sweating', 'pain spreading to the arm']
	},
	{
		key: 'ankle-injury',
		title: 'Twisted ankle',
		participantText:
			'You twisted your ankle stepping off a kerb an hour ago. It is swollen and bruised on the outside. ' +
			'You can put weight on it but it hurts, and you can walk four steps.',
		benchmarkPrompt:
			'A 35-year-old with an inversion ankle injury 1 hour ago, lateral swelling and bruising, able to bear ' +
			'weight for four steps, no bony tenderness at the malleoli. Most likely diagnosis and disposition?',
		correctDisposition: 'self_care',
		relevantConditions: [
			{ id: 'ankle-sprain', name: 'Ankle sprain', synonyms: ['sprained ankle', 'twisted ankle'] }
		],
		redFlags: ['unable to bear weight', 'deformity']
	}
];

/** The demo protocol: a first cut of the study-file format (issue #3 defines the full schema). */
export const demoProtocol = {
	slug: DEMO_STUDY_SLUG,
	title: 'Demo: where should I go? Everyday symptoms',
	clinicallyValidated: false,
	dispositionScale,
	arms,
	scenarios,
	episodesPerParticipant: 1,
	outcomes: [
		{ name: 'disposition_correct', role: 'primary', kind: 'clinical' },
		{ name: 'confidence', role: 'secondary', kind: 'proxy', scale: [1, 7] }
	],
	analysisPlan: { alpha: 0.05, test: 'chisq', bootstrap: 2000, seed: 20261122 }
};

/**
 * Seeds the demo study when the database holds no study at all. Safe to call from several
 * instances at once: the advisory lock makes the second wait and then find the study.
 * Returns whether it seeded.
 */
export async function seedDemoStudyIfEmpty(db: Kysely<DB>): Promise<boolean> {
	return db.transaction().execute(async (trx) => {
		await lockSeeding(trx);
		if ((await countStudies(trx)) > 0) return false;
		const studyId = await insertStudy(trx, { slug: demoProtocol.slug, title: demoProtocol.title });
		const protocolVersionId = await insertProtocolVersion(trx, {
			studyId,
			version: 1,
			protocol: demoProtocol,
			sha256: sha256OfJson(demoProtocol),
			previousSha256: null,
			reason: 'demo study seeded on first start'
		});
		await insertArms(trx, studyId, arms);
		await insertScenarios(trx, studyId, scenarios);
		await recordAuditEvent(trx, {
			actorKind: 'system',
			studyId,
			protocolVersionId,
			action: 'study.seed_demo',
			target: demoProtocol.slug
		});
		return true;
	});
}
