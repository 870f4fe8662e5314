// The report's charts as self-contained SVG strings: no script, no external font or stylesheet, so
// the HTML report opens anywhere and prints. Every text is escaped; every chart has a <title> for
// screen readers. Proportions are drawn in percent, differences in percentage points.

import type { Consort } from './result.ts';

type Interval = readonly [number, number] | null | undefined;

/** XML text and attribute escaping. */
export function escapeXml(s: unknown): string {
	return String(s)
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

const f = (x: number) => (Math.round(x * 10) / 10).toString();
const pct = (p: number) => `${(100 * p).toFixed(1)}%`;
const pp = (d: number) => `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}`;

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';
const INK = '#1f2933';
const MUTED = '#7b8794';
const ACCENT = '#2f6fb0';
const WARN = '#b54708';

// A mark whose coordinates could not be computed (an estimate that is not estimable on an interim
// look) is left out rather than drawn at NaN, which browsers report as an error.
const NON_FINITE_ATTRIBUTE = /="[^"]*(?:NaN|Infinity)[^"]*"/;

function svg(width: number, height: number, title: string, body: string[]): string {
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ${FONT} fill="${INK}">`,
		`<title>${escapeXml(title)}</title>`,
		...body.filter((element) => !NON_FINITE_ATTRIBUTE.test(element)),
		'</svg>'
	].join('\n');
}

const text = (x: number, y: number, s: unknown, attrs = '') =>
	`<text x="${f(x)}" y="${f(y)}" ${attrs}>${escapeXml(s)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, attrs = `stroke="${INK}"`) =>
	`<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" ${attrs}/>`;

/** Round tick positions covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
	const span = hi - lo || 1;
	const raw = span / count;
	const magnitude = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
	const out: number[] = [];
	for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step)
		out.push(Math.round(t / step) * step);
	return out;
}

const scale = (d0: number, d1: number, r0: number, r1: number) => (v: number) =>
	r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);

/** The domain of a set of values and intervals, padded, always including zero. */
function domainOf(values: number[], pad = 0.05): [number, number] {
	const finite = values.filter(Number.isFinite);
	const lo = Math.min(0, ...finite);
	const hi = Math.max(0, ...finite);
	const margin = (hi - lo || 0.1) * pad;
	return [lo - margin, hi + margin];
}

function box(x: number, y: number, w: number, lines: string[], emphasis = false): string {
	const h = 10 + 16 * lines.length;
	return [
		`<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${h}" rx="4" fill="${emphasis ? '#eef4fb' : '#fff'}" stroke="${INK}"/>`,
		...lines.map((l, i) =>
			text(
				x + w / 2,
				y + 19 + 16 * i,
				l,
				`text-anchor="middle"${i === 0 ? ' font-weight="600"' : ''}`
			)
		)
	].join('\n');
}

/** Lines of "reason: n", at most four and a note for the rest. */
function reasonLines(reasons: Record<string, number>): string[] {
	const all = Object.entries(reasons).map(([r, n]) => `  ${r}: ${n}`);
	return all.length > 4 ? [...all.slice(0, 4), `  and ${all.length - 4} more`] : all;
}

const boxHeight = (lines: number) => 10 + 16 * lines;

/**
 * The CONSORT 2010 flow diagram (Schulz, Altman & Moher 2010, Figure 1): enrolment with the
 * exclusions before randomization, then one column per arm for allocation, follow-up and analysis
 * (people and episodes, with the reasons for those not analysed).
 */
export function consortDiagram(c: Consort): string {
	const column = 230;
	const width = Math.max(620, c.arms.length * (column + 20) + 20);
	const e = c.enrolment;
	const down = (x: number, y1: number, y2: number) =>
		line(x, y1, x, y2, `stroke="${INK}" marker-end="url(#arrow)"`);
	const enrolLines = [
		'Enrolment',
		e.assessed === null ? `Consented (n = ${e.consented})` : `Assessed (n = ${e.assessed})`
	];
	const excludedLines = [
		`Excluded before randomization (n = ${(e.declined ?? 0) + e.screened_out.total})`,
		...(e.declined === null ? [] : [`  declined consent: ${e.declined}`]),
		`  screened out: ${e.screened_out.total}`,
		...reasonLines(e.screened_out.reasons).map((l) => `  ${l}`),
		...(e.awaiting_allocation > 0 ? [`Awaiting allocation: ${e.awaiting_allocation}`] : [])
	];
	const excludedTop = 60;
	const randomY = excludedTop + Math.max(boxHeight(excludedLines.length), 40) + 20;
	const body: string[] = [
		`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${INK}"/></marker></defs>`,
		box(width / 2 - 130, 8, 260, enrolLines, true),
		box(width - 300, excludedTop, 290, excludedLines),
		line(width / 2, 8 + boxHeight(enrolLines.length), width / 2, randomY - 2, `stroke="${INK}"`),
		line(
			width / 2,
			excludedTop + 20,
			width - 302,
			excludedTop + 20,
			`stroke="${INK}" marker-end="url(#arrow)"`
		),
		box(width / 2 - 130, randomY, 260, [`Randomized (n = ${e.randomized})`], true)
	];
	const armX = (i: number) =>
		10 + i * ((width - 20) / c.arms.length) + ((width - 20) / c.arms.length - column) / 2;
	const splitY = randomY + 46;
	if (c.arms.length > 0)
		body.push(
			line(width / 2, randomY + 26, width / 2, splitY, `stroke="${INK}"`),
			line(
				Math.min(width / 2, armX(0) + column / 2),
				splitY,
				Math.max(width / 2, armX(c.arms.length - 1) + column / 2),
				splitY
			)
		);
	let bottom = splitY;
	c.arms.forEach((a, i) => {
		const x = armX(i);
		const mid = x + column / 2;
		const analysis = a.analysis[c.population];
		const stages = [
			[
				`Allocation: ${a.arm}`,
				`Allocated: ${a.allocated}`,
				`Received allocated condition: ${a.received}`,
				`Did not receive it: ${a.not_received}`
			],
			[
				'Follow-up',
				`Completed: ${a.follow_up.completed}`,
				`Withdrew: ${a.follow_up.withdrawn}`,
				`Excluded after randomization: ${a.follow_up.excluded}`,
				`Did not finish: ${a.follow_up.did_not_finish}`
			],
			[
				`Analysis (${c.population.replace(/_/g, ' ')})`,
				`Analysed: ${analysis.people} people, ${analysis.episodes} episodes`,
				`Not analysed: ${analysis.excluded.total}`,
				...reasonLines(analysis.excluded.reasons)
			]
		];
		let y = splitY;
		for (const [k, lines] of stages.entries()) {
			body.push(down(mid, y, y + 22), box(x, y + 24, column, lines, k === 2));
			y += 24 + boxHeight(lines.length);
		}
		bottom = Math.max(bottom, y);
	});
	return svg(width, bottom + 12, 'CONSORT 2010 flow diagram', body);
}

export interface ForestRow {
	label: string;
	diff: number | null;
	ci: Interval;
	note?: string;
}

/** A forest plot of differences (arm − control) with their intervals and a line at no effect. */
export function forestPlot(rows: ForestRow[], title: string): string {
	const labelWidth = 220;
	const plotWidth = 340;
	const width = labelWidth + plotWidth + 280;
	const rowHeight = 26;
	const height = 50 + rowHeight * rows.length + 30;
	const [lo, hi] = domainOf(
		rows.flatMap((r) => [r.diff ?? NaN, r.ci?.[0] ?? NaN, r.ci?.[1] ?? NaN])
	);
	const x = scale(lo, hi, labelWidth, labelWidth + plotWidth);
	const bottom = 40 + rowHeight * rows.length;
	const body: string[] = [
		text(labelWidth + plotWidth + 10, 28, 'difference (95% CI)', `font-weight="600"`),
		...ticks(lo, hi).flatMap((t) => [
			line(x(t), 34, x(t), bottom, `stroke="#e4e7eb"`),
			text(x(t), bottom + 16, pp(t), `text-anchor="middle" fill="${MUTED}"`)
		]),
		line(x(0), 34, x(0), bottom, `stroke="${INK}" stroke-dasharray="4 3"`),
		text(
			labelWidth + plotWidth / 2,
			bottom + 32,
			'percentage points (arm − control)',
			`text-anchor="middle" fill="${MUTED}"`
		)
	];
	rows.forEach((r, i) => {
		const y = 50 + rowHeight * i;
		body.push(text(8, y + 4, r.label));
		if (r.diff === null) {
			body.push(text(labelWidth + plotWidth + 10, y + 4, 'not estimable', `fill="${MUTED}"`));
			return;
		}
		if (r.ci) body.push(line(x(r.ci[0]), y, x(r.ci[1]), y, `stroke="${ACCENT}" stroke-width="2"`));
		body.push(
			`<rect x="${f(x(r.diff) - 5)}" y="${f(y - 5)}" width="10" height="10" fill="${ACCENT}"/>`,
			text(
				labelWidth + plotWidth + 10,
				y + 4,
				`${pp(r.diff)}${r.ci ? ` (${pp(r.ci[0])} to ${pp(r.ci[1])})` : ''}${r.note ? ` ${r.note}` : ''}`
			)
		);
	});
	return svg(width, height, title, body);
}

export interface MediationStage {
	label: string;
	p: number | null;
	ci: Interval;
	n?: number;
}

/**
 * The decision-mediation chart of one arm: the model alone → the model in conversation → the
 * people it advised, each a proportion with its interval on a 0–100% scale.
 */
export function mediationChart(stages: MediationStage[], title: string): string {
	const width = 520;
	const height = 250;
	const left = 50;
	const top = 30;
	const bottom = 190;
	const y = scale(0, 1, bottom, top);
	const step = (width - left - 40) / stages.length;
	const cx = (i: number) => left + step * (i + 0.5);
	const body: string[] = [
		...[0, 0.25, 0.5, 0.75, 1].flatMap((t) => [
			line(left, y(t), width - 20, y(t), `stroke="#e4e7eb"`),
			text(left - 6, y(t) + 4, `${100 * t}%`, `text-anchor="end" fill="${MUTED}"`)
		])
	];
	const points = stages
		.map((s, i) => (s.p === null ? null : `${f(cx(i))},${f(y(s.p))}`))
		.filter((p) => p !== null);
	if (points.length > 1)
		body.push(
			`<polyline points="${points.join(' ')}" fill="none" stroke="${MUTED}" stroke-dasharray="3 3"/>`
		);
	stages.forEach((s, i) => {
		body.push(text(cx(i), bottom + 20, s.label, `text-anchor="middle"`));
		if (s.n !== undefined)
			body.push(text(cx(i), bottom + 36, `n = ${s.n}`, `text-anchor="middle" fill="${MUTED}"`));
		if (s.p === null) {
			body.push(text(cx(i), y(0.5), 'no data', `text-anchor="middle" fill="${MUTED}"`));
			return;
		}
		if (s.ci) {
			body.push(
				line(cx(i), y(s.ci[0]), cx(i), y(s.ci[1]), `stroke="${ACCENT}" stroke-width="2"`),
				line(cx(i) - 6, y(s.ci[0]), cx(i) + 6, y(s.ci[0]), `stroke="${ACCENT}" stroke-width="2"`),
				line(cx(i) - 6, y(s.ci[1]), cx(i) + 6, y(s.ci[1]), `stroke="${ACCENT}" stroke-width="2"`)
			);
		}
		body.push(
			`<circle cx="${f(cx(i))}" cy="${f(y(s.p))}" r="5" fill="${ACCENT}"/>`,
			text(cx(i) + 10, y(s.p) - 6, pct(s.p), `font-weight="600"`)
		);
	});
	return svg(width, height, title, body);
}

export interface ProxyEffectPoint {
	arm: string;
	proxy: { diff: number; ci: Interval };
	outcome: { diff: number | null; ci: Interval };
	discordant: boolean;
}

/**
 * Effect on the proxy (x, its own units) against effect on the clinical outcome (y, percentage
 * points), one point per arm with both intervals: a proxy that tracks the outcome puts arms on a
 * line through the origin; discordant arms are drawn in orange.
 */
export function proxyEffectsChart(
	points: ProxyEffectPoint[],
	proxy: string,
	outcome: string
): string {
	const width = 520;
	const height = 320;
	const [left, right, top, bottom] = [70, width - 20, 20, height - 60];
	const [x0, x1] = domainOf(
		points.flatMap((p) => [p.proxy.diff, ...(p.proxy.ci ?? [])]),
		0.15
	);
	const [y0, y1] = domainOf(
		points.flatMap((p) => [p.outcome.diff ?? NaN, ...(p.outcome.ci ?? [])]),
		0.15
	);
	const x = scale(x0, x1, left, right);
	const y = scale(y0, y1, bottom, top);
	const body: string[] = [
		...ticks(x0, x1).flatMap((t) => [
			line(x(t), top, x(t), bottom, `stroke="#e4e7eb"`),
			text(x(t), bottom + 16, Number(t.toFixed(3)), `text-anchor="middle" fill="${MUTED}"`)
		]),
		...ticks(y0, y1).flatMap((t) => [
			line(left, y(t), right, y(t), `stroke="#e4e7eb"`),
			text(left - 6, y(t) + 4, pp(t), `text-anchor="end" fill="${MUTED}"`)
		]),
		line(x(0), top, x(0), bottom, `stroke="${INK}" stroke-dasharray="4 3"`),
		line(left, y(0), right, y(0), `stroke="${INK}" stroke-dasharray="4 3"`),
		text(
			(left + right) / 2,
			bottom + 36,
			`effect on ${proxy} (arm − control)`,
			`text-anchor="middle"`
		),
		text(
			14,
			(top + bottom) / 2,
			`effect on ${outcome} (pp)`,
			`text-anchor="middle" transform="rotate(-90 14 ${f((top + bottom) / 2)})"`
		)
	];
	for (const p of points) {
		if (p.outcome.diff === null) continue;
		const colour = p.discordant ? WARN : ACCENT;
		const [px, py] = [x(p.proxy.diff), y(p.outcome.diff)];
		if (p.proxy.ci)
			body.push(line(x(p.proxy.ci[0]), py, x(p.proxy.ci[1]), py, `stroke="${colour}"`));
		if (p.outcome.ci)
			body.push(line(px, y(p.outcome.ci[0]), px, y(p.outcome.ci[1]), `stroke="${colour}"`));
		body.push(
			`<circle cx="${f(px)}" cy="${f(py)}" r="5" fill="${colour}"/>`,
			text(px + 8, py - 8, `${p.arm}${p.discordant ? ' (discordant)' : ''}`, `fill="${colour}"`)
		);
	}
	return svg(width, height, `Effects on ${proxy} and on ${outcome}, by arm`, body);
}

export interface WaterfallInput {
	stages: { name: string; p: number }[];
	steps: { assumption: string; type: 'task' | 'outcome'; drop: number }[];
}

/**
 * The staged decomposition as a waterfall: the first stage's accuracy, each relaxed assumption's
 * drop as a floating bar (task and outcome assumptions coloured apart), the last stage's accuracy.
 */
export function waterfallChart(d: WaterfallInput, title: string): string {
	const bars = [
		{ label: d.stages[0]!.name, from: 0, to: d.stages[0]!.p, kind: 'level' as const },
		...d.steps.map((s, i) => ({
			label: `${s.assumption} (${s.type})`,
			from: d.stages[i + 1]!.p,
			to: d.stages[i]!.p,
			kind: s.type
		})),
		{ label: d.stages.at(-1)!.name, from: 0, to: d.stages.at(-1)!.p, kind: 'level' as const }
	];
	const width = Math.max(520, 120 * bars.length + 60);
	const height = 300;
	const [left, top, bottom] = [50, 20, 220];
	const y = scale(0, 1, bottom, top);
	const step = (width - left - 20) / bars.length;
	const colour = { level: ACCENT, task: '#8e6ccf', outcome: WARN };
	const body: string[] = [
		...[0, 0.25, 0.5, 0.75, 1].flatMap((t) => [
			line(left, y(t), width - 20, y(t), `stroke="#e4e7eb"`),
			text(left - 6, y(t) + 4, `${100 * t}%`, `text-anchor="end" fill="${MUTED}"`)
		])
	];
	bars.forEach((b, i) => {
		const x = left + step * i + step * 0.15;
		const w = step * 0.7;
		const [hi, lo] = [Math.max(b.from, b.to), Math.min(b.from, b.to)];
		body.push(
			`<rect x="${f(x)}" y="${f(y(hi))}" width="${f(w)}" height="${f(Math.max(1, y(lo) - y(hi)))}" fill="${colour[b.kind]}"/>`,
			text(
				x + w / 2,
				y(hi) - 5,
				b.kind === 'level' ? pct(b.to) : `${pp(b.from - b.to)} pp`,
				`text-anchor="middle" font-weight="600"`
			),
			...wrap(b.label, 18).map((l, k) =>
				text(x + w / 2, bottom + 16 + 14 * k, l, `text-anchor="middle" font-size="11"`)
			)
		);
	});
	return svg(width, height, title, body);
}

/** Splits a label into lines of at most `width` characters, at spaces where possible. */
function wrap(label: string, width: number): string[] {
	const lines: string[] = [];
	let current = '';
	for (const word of label.split(/\s+/)) {
		if (current && (current + ' ' + word).length > width) {
			lines.push(current);
			current = word;
		} else current = current ? `${current} ${word}` : word;
	}
	if (current) lines.push(current);
	return lines.slice(0, 4);
}

export interface AdviceFlowRow {
	arm: string;
	bothRight: number;
	improved: number;
	harmed: number;
	bothWrong: number;
}

/**
 * Where each arm's decisions went between the initial and the final decision, one bar per arm:
 * right both times, wrong then right (improved), right then wrong (harmed), wrong both times.
 * Shares of the arm's episodes; the counts are in the table beside it.
 */
export function adviceFlowChart(rows: AdviceFlowRow[], title: string): string {
	const width = 640;
	const left = 120;
	const right = width - 20;
	const barHeight = 26;
	const top = 40;
	const height = top + rows.length * (barHeight + 14) + 30;
	const parts = [
		{ key: 'bothRight', label: 'right → right', fill: '#9fc5e8' },
		{ key: 'improved', label: 'wrong → right (improved)', fill: ACCENT },
		{ key: 'harmed', label: 'right → wrong (harmed)', fill: WARN },
		{ key: 'bothWrong', label: 'wrong → wrong', fill: '#cbd2d9' }
	] as const;
	const body: string[] = [];
	parts.forEach((p, i) => {
		const x = left + i * 125;
		body.push(
			`<rect x="${f(x)}" y="10" width="12" height="12" fill="${p.fill}"/>`,
			text(x + 16, 20, p.label, `font-size="11"`)
		);
	});
	rows.forEach((r, i) => {
		const y = top + i * (barHeight + 14);
		const total = r.bothRight + r.improved + r.harmed + r.bothWrong;
		body.push(text(left - 8, y + barHeight / 2 + 4, r.arm, 'text-anchor="end"'));
		let x = left;
		for (const p of parts) {
			const w = total > 0 ? ((right - left) * r[p.key]) / total : 0;
			if (w > 0)
				body.push(
					`<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${barHeight}" fill="${p.fill}"><title>${escapeXml(`${r.arm}: ${p.label} ${r[p.key]} of ${total}`)}</title></rect>`
				);
			if (w > 34)
				body.push(
					text(
						x + w / 2,
						y + barHeight / 2 + 4,
						pct(r[p.key] / total),
						'text-anchor="middle" font-size="11"'
					)
				);
			x += w;
		}
	});
	return svg(width, height, title, body);
}
