import { consortDiagram } from '../charts.ts';
import type { AnalysisResult } from '../result.ts';
import type { Blocks } from './blocks.ts';
import { reasons, words } from './format.ts';

// The report's opening: what was analysed under which plan, every departure from it, the
// participant flow (CONSORT 2010) and the protocol deviations the platform recorded.

export const isRegistered = (a: AnalysisResult) => Boolean(a.study.preregistration_sha256);

export function headerSection(b: Blocks, a: AnalysisResult, title: string) {
	const { plan } = a;
	const primary = a.declared_outcomes.find((o) => o.role === 'primary')?.name;
	b.heading(1, `${title}: analysis`);
	// "Preregistered" only when the export carries the registration.
	b.paragraph(
		[
			`Study ${a.study.slug}; preregistration SHA-256 ${a.study.preregistration_sha256 ?? 'none (not preregistered)'}.`,
			`${isRegistered(a) ? 'Preregistered plan' : 'Analysis plan (not preregistered)'}: test ${plan.test}, alpha ${plan.alpha}, ${plan.bootstrap} bootstrap resamples, population ${words(plan.population)}; seed ${a.seed}.`,
			`Primary outcome: ${primary ?? 'none declared'}. Intervals are 95%. Proportions in percent; differences in percentage points (pp).`
		].join(' ')
	);
	b.paragraph(
		a.departures.length > 0
			? `Departures from the plan: ${a.departures.join(' ')}`
			: 'Departures from the plan: none.'
	);
	if (a.clustered_by_participant)
		b.paragraph(
			'Participants decided on several scenarios, so their episodes are not independent. The primary interval of every estimate below is the one clustered by participant (cluster bootstrap, or sandwich for the logistic model); the plain interval is shown beside it and the charts draw the primary one.'
		);
}

export function consortSection(b: Blocks, a: AnalysisResult) {
	const c = a.consort;
	const e = c.enrolment;
	b.heading(3, 'Participant flow (CONSORT 2010)');
	b.paragraph(
		[
			e.assessed === null
				? `Consented: ${e.consented} (the export does not count those who declined).`
				: `Assessed: ${e.assessed}; declined consent: ${e.declined}; consented: ${e.consented}.`,
			`Screened out before randomization: ${e.screened_out.total}${e.screened_out.total ? ` (${reasons(e.screened_out.reasons)})` : ''}.`,
			e.awaiting_allocation ? `Awaiting allocation: ${e.awaiting_allocation}.` : '',
			`Randomized: ${e.randomized}. Primary population: ${words(c.population)}.`
		]
			.filter(Boolean)
			.join(' ')
	);
	b.table(
		[
			'arm',
			'allocated',
			'received',
			'completed',
			'withdrew',
			'excluded after randomization',
			'did not finish',
			'analysed: people (episodes)',
			'not analysed (reasons)',
			'episodes without an outcome',
			'per protocol: people (episodes)'
		],
		c.arms.map((x) => {
			const main = x.analysis[c.population];
			const pp = x.analysis.per_protocol;
			return [
				x.arm,
				x.allocated,
				x.received,
				x.follow_up.completed,
				x.follow_up.withdrawn,
				x.follow_up.excluded,
				x.follow_up.did_not_finish,
				`${main.people} (${main.episodes})`,
				main.excluded.total ? `${main.excluded.total} (${reasons(main.excluded.reasons)})` : '0',
				main.missing_outcome_episodes,
				`${pp.people} (${pp.episodes})`
			];
		})
	);
	b.chart('CONSORT 2010 flow diagram', consortDiagram(c));
	for (const f of c.follow_ups ?? []) {
		b.paragraph(
			`Follow-up "${f.follow_up}" (day ${f.after_days}, open ${f.window_days} days): loss to follow-up by arm.`
		);
		b.table(
			['arm', 'invited (completed)', 'answered', 'link still open', 'lost to follow-up'],
			f.arms.map((x) => [x.arm, x.invited, x.answered, x.pending, x.lost])
		);
	}
}

export function deviationsSection(b: Blocks, a: AnalysisResult) {
	const d = a.deviations;
	b.heading(3, 'Protocol deviations');
	if (!d.recorded) {
		b.paragraph('The export has no deviations.csv: deviations were not recorded with the data.');
		return;
	}
	if (d.total === 0) {
		b.paragraph('The platform recorded no protocol deviation.');
		return;
	}
	b.paragraph(
		`The platform recorded ${d.total} protocol deviation(s); each is listed in deviations.csv with its participant and time.`
	);
	b.table(
		['kind', 'arm', 'count'],
		d.by_kind.map((x) => [words(x.kind), x.arm || '—', x.count])
	);
}
