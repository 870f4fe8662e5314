import type { AnalysisResult } from './result.ts';
import { Blocks, type Block } from './report/blocks.ts';
import {
	balanceSection,
	integritySection,
	powerSection,
	triageSection
} from './report/design-sections.ts';
import {
	armTable,
	caceSection,
	effectTable,
	effectsSection,
	mixedSection,
	sensitivitySection
} from './report/effect-sections.ts';
import {
	consortSection,
	deviationsSection,
	headerSection,
	isRegistered
} from './report/flow-sections.ts';
import {
	adviceTakingSection,
	coderCorrectionSection,
	decompositionSection,
	mediationSection
} from './report/mediation-sections.ts';
import { proxiesSection, proxyTable } from './report/proxy-sections.ts';
import { renderHtml, renderMarkdown } from './report/render.ts';

// The analysis as a report for people, in Markdown and as one self-contained HTML file. One list
// of blocks is built from the analysis JSON, section by section (report/*), and rendered twice, so
// both forms say the same thing in the same order: what was preregistered first (plan, seed,
// departures, the participant flow, the declared outcomes), then everything else labelled
// exploratory. Every estimate carries its n, interval and method.

export type { Block };

/** The report as blocks, in reading order. */
export function reportBlocks(a: AnalysisResult, title = a.study.slug): Block[] {
	const b = new Blocks();
	const declared = new Set(a.declared_outcomes.map((o) => o.name));
	headerSection(b, a, title);

	b.heading(
		2,
		isRegistered(a)
			? 'Preregistered analyses'
			: 'Analyses of the declared outcomes (not preregistered)'
	);
	b.paragraph(
		isRegistered(a)
			? 'The outcomes the protocol declared, analysed with the preregistered plan.'
			: 'This export carries no preregistration: the outcomes the protocol declared, analysed with the default plan. None of it is confirmatory.'
	);
	consortSection(b, a);
	deviationsSection(b, a);
	const outcomes = [...new Set(a.arms.flatMap((x) => Object.keys(x.outcomes)))];
	b.heading(3, 'Arms');
	armTable(
		b,
		a.arms,
		outcomes.filter((o) => declared.has(o))
	);
	effectsSection(b, a, declared);
	caceSection(b, a, declared);
	if (a.plan.primary_model === 'mixed_logistic') mixedSection(b, a, declared);
	sensitivitySection(b, a, declared);
	mediationSection(b, a, declared);
	coderCorrectionSection(b, a, declared);
	proxiesSection(b, a, declared);

	// Everything below was not named by the protocol.
	b.heading(2, 'Exploratory analyses (not preregistered)');
	const undeclared = outcomes.filter((o) => !declared.has(o));
	if (undeclared.length > 0) {
		b.heading(3, 'Outcomes the protocol did not declare');
		armTable(b, a.arms, undeclared);
		const rows = a.effects.filter((e) => !declared.has(e.outcome));
		if (rows.length > 0) effectTable(b, rows);
	}
	const undeclaredProxies = a.proxies.filter((x) => !declared.has(x.proxy));
	if (undeclaredProxies.length > 0) {
		b.heading(3, 'Other measures against the clinical outcome');
		proxyTable(b, undeclaredProxies);
	}
	if (a.plan.primary_model !== 'mixed_logistic')
		mixedSection(b, a, new Set(a.mixed.map((m) => m.outcome)));
	adviceTakingSection(b, a);
	integritySection(b, a);
	triageSection(b, a);
	balanceSection(b, a);
	decompositionSection(b, a);
	powerSection(b, a);
	b.list([
		`Method names match the JSON (${a.format}); the JSON holds every number with full precision.`,
		`Rerunning with seed ${a.seed} gives the same numbers.`
	]);
	return b.out;
}

export function markdownReport(a: AnalysisResult, title = a.study.slug): string {
	return renderMarkdown(reportBlocks(a, title));
}

/** The report as one HTML file: inline CSS and SVG, no script, nothing fetched. */
export function htmlReport(a: AnalysisResult, title = a.study.slug): string {
	return renderHtml(reportBlocks(a, title), `${title}`);
}
