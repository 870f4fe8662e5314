import type { Participant, StudyExport } from '../io/export-reader.ts';
import type { Consort, ConsortArm, Counted, Population } from '../result.ts';
import { followUpFlow } from './follow-ups.ts';
import { participantFacts, reasonOutside, type ParticipantFacts } from './context.ts';

// The participant flow as CONSORT 2010 draws it (Schulz, Altman & Moher 2010, Figure 1):
// enrolment (assessed, excluded before randomization with reasons), allocation per arm (allocated,
// received the allocated condition), follow-up (completed, withdrew, excluded after randomization,
// did not finish) and analysis per population (analysed and not, with reasons; people and episodes).
// Every level adds up to the one above it; tests/unit/consort.test.ts checks the arithmetic.

const POPULATIONS: Population[] = ['intention_to_treat', 'per_protocol'];

function counted(reasons: readonly string[]): Counted {
	const out: Record<string, number> = {};
	for (const r of reasons) out[r] = (out[r] ?? 0) + 1;
	return { total: reasons.length, reasons: out };
}

function followUp(people: readonly Participant[]): ConsortArm['follow_up'] {
	const is = (s: Participant['status']) => people.filter((p) => p.status === s).length;
	const completed = is('completed');
	const withdrawn = is('withdrawn');
	const excluded = is('excluded');
	return {
		completed,
		withdrawn,
		excluded,
		did_not_finish: people.length - completed - withdrawn - excluded
	};
}

export function consortFlow(
	data: StudyExport,
	primary: Population,
	arms: string[],
	facts: ParticipantFacts = participantFacts(data)
): Consort {
	const started = new Set(data.episodes.map((e) => e.participant));
	const episodesOf = new Map<string, { submitted: number; open: number }>();
	for (const e of data.episodes) {
		const c = episodesOf.get(e.participant) ?? { submitted: 0, open: 0 };
		if (e.submitted) c.submitted++;
		else c.open++;
		episodesOf.set(e.participant, c);
	}
	const randomized = data.participants.filter((p) => p.arm !== '');
	const screenedOut = data.participants.filter((p) => p.arm === '' && p.status === 'excluded');
	const declined = data.study.enrolment.declined;

	const armRows: ConsortArm[] = arms.map((arm) => {
		const people = randomized.filter((p) => p.arm === arm);
		const received = people.filter((p) => started.has(p.id)).length;
		const analysis = Object.fromEntries(
			POPULATIONS.map((population) => {
				const reasons: string[] = [];
				let analysedPeople = 0;
				let episodes = 0;
				let open = 0;
				for (const p of people) {
					const reason = reasonOutside(p, population, facts.submitted, facts.failedAttention);
					if (reason !== null) reasons.push(reason);
					else {
						analysedPeople++;
						episodes += episodesOf.get(p.id)?.submitted ?? 0;
						open += episodesOf.get(p.id)?.open ?? 0;
					}
				}
				return [
					population,
					{
						people: analysedPeople,
						episodes,
						excluded: counted(reasons),
						missing_outcome_episodes: open
					}
				];
			})
		) as ConsortArm['analysis'];
		return {
			arm,
			allocated: people.length,
			received,
			not_received: people.length - received,
			follow_up: followUp(people),
			analysis
		};
	});

	const perArm = (value: (a: ConsortArm) => number) =>
		Object.fromEntries(armRows.map((a) => [a.arm, value(a)]));
	const excluded = data.participants.filter((p) => p.status === 'excluded');
	return {
		consented: data.participants.length,
		excluded: counted(excluded.map((p) => p.exclusionReason || 'unspecified')),
		allocated: perArm((a) => a.allocated),
		completed: perArm((a) => a.follow_up.completed),
		withdrawn: perArm((a) => a.follow_up.withdrawn),
		analysed: perArm((a) => a.analysis[primary].people),
		enrolment: {
			assessed: declined === null ? null : declined + data.participants.length,
			declined,
			consented: data.participants.length,
			screened_out: counted(screenedOut.map((p) => p.exclusionReason || 'unspecified')),
			awaiting_allocation: data.participants.length - randomized.length - screenedOut.length,
			randomized: randomized.length
		},
		arms: armRows,
		population: primary,
		follow_ups: followUpFlow(data, arms)
	};
}
