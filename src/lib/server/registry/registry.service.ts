import {
	assumptionsOfCards,
	evidenceFor,
	listCards,
	studiesTestingAssumptions
} from '../cards/cards.repository.ts';
import type { Queryable } from '../db/types.ts';
import { preregistrationsOf } from '../prereg/prereg.repository.ts';
import { preregistrationMarkdown } from '../prereg/prereg-markdown.ts';
import { preregistrationDocument } from '../prereg/prereg.service.ts';
import { StudyStateError } from '../studies/studies.service.ts';
import { findStudyBySlug, listStudies } from '../studies/studies.repository.ts';

// The public registry: which assumptions of which benchmarks have been tested, where, and did they
// hold. Only preregistered studies appear: a draft is its researchers' business until registered.

const PUBLIC_STATUSES = new Set(['preregistered', 'recruiting', 'paused', 'closed']);

function matches(q: string, ...texts: (string | null | undefined)[]): boolean {
	return q === '' || texts.some((t) => t?.toLowerCase().includes(q));
}

export async function registryView(db: Queryable, query = '') {
	const q = query.trim().toLowerCase();
	const cards = await listCards(db);
	const assumptions = await assumptionsOfCards(db);
	const evidence = await evidenceFor(
		db,
		assumptions.map((a) => a.id)
	);
	const tested = (await studiesTestingAssumptions(db)).filter((t) => PUBLIC_STATUSES.has(t.status));

	const studies = [];
	for (const s of await listStudies(db)) {
		if (!PUBLIC_STATUSES.has(s.status)) continue;
		const chain = await preregistrationsOf(db, s.id);
		const first = chain[0];
		if (!first) continue;
		const assumptionKeys = tested
			.filter((t) => t.studySlug === s.slug)
			.map((t) => {
				const a = assumptions.find((x) => x.id === t.assumptionId);
				return a ? `${a.cardSlug}/${a.key}` : '';
			});
		if (!matches(q, s.title, s.slug, ...assumptionKeys)) continue;
		studies.push({
			slug: s.slug,
			title: s.title,
			status: s.status,
			registeredAt: first.createdAt.toISOString(),
			amendments: chain.length - 1,
			sha256: chain[chain.length - 1]!.sha256,
			assumptions: assumptionKeys
		});
	}

	return {
		query,
		studies,
		cards: cards
			.map((c) => ({
				slug: c.slug,
				benchmarkName: c.benchmarkName,
				citation: c.citation,
				assumptions: assumptions
					.filter((a) => a.cardId === c.id)
					.map((a) => ({
						key: a.key,
						type: a.type,
						question: a.question,
						answer: a.answer,
						holds: a.holdsAtDeployment,
						note: a.note,
						testedBy: tested
							.filter((t) => t.assumptionId === a.id)
							.map((t) => ({ slug: t.studySlug, title: t.studyTitle })),
						evidence: evidence
							.filter((e) => e.assumptionId === a.id)
							.map((e) => ({
								study: e.studySlug,
								estimate: e.estimate,
								value: e.value,
								ci: e.ciLow !== null && e.ciHigh !== null ? [e.ciLow, e.ciHigh] : null
							}))
					}))
					.filter((a) =>
						matches(q, c.benchmarkName, c.citation, a.key, a.question, a.answer, a.note)
					)
			}))
			.filter((c) => c.assumptions.length > 0)
	};
}

/** Whether a study's preregistration is public (it is, once registered). */
export function isPublicStatus(status: string): boolean {
	return PUBLIC_STATUSES.has(status);
}

/**
 * A study's preregistration as the public sees it: its Markdown with the answer key concealed until
 * the study closes. A draft (or no study) is answered like a study that does not exist.
 */
export async function publicPreregistration(db: Queryable, slug: string) {
	const study = await findStudyBySlug(db, slug);
	if (!study || !isPublicStatus(study.status))
		throw new StudyStateError('No such preregistered study', 'not_found');
	const doc = await preregistrationDocument(db, slug);
	return {
		slug: study.slug,
		title: study.title,
		markdown: preregistrationMarkdown(doc, { concealAnswerKey: study.status !== 'closed' }),
		registrations: doc.registrations
	};
}
