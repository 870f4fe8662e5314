import type { ArmInfo, ExportProblem, ExportSource, StudyInfo } from './export-types.ts';

// study.json: what the study was (arms, scenarios, the scale, the declared outcomes, the plan).

const DEFAULT_PLAN = {
	alpha: 0.05,
	test: 'chisq' as const,
	bootstrap: 2000,
	seed: 20261122,
	population: 'intention_to_treat' as const,
	primary_model: 'difference' as const,
	used_assistant_min_messages: 1,
	equivalence_margins: {} as Record<string, number>
};

export function readStudyJson(
	source: ExportSource,
	problems: ExportProblem[]
): StudyInfo | undefined {
	const file = 'study.json';
	const text = source.read(file);
	let raw: Record<string, unknown>;
	try {
		if (text === undefined) throw new Error('missing');
		raw = JSON.parse(text);
	} catch (error) {
		problems.push({
			file,
			message: text !== undefined ? `is not valid JSON: ${(error as Error).message}` : 'is missing'
		});
		return undefined;
	}
	const at = (column: string, message: string) => problems.push({ file, column, message });
	if (raw.format !== 'bedside-export/1')
		at('format', `must be "bedside-export/1" (got ${JSON.stringify(raw.format)})`);
	const s = (raw.study ?? {}) as Record<string, unknown>;
	const arms = Array.isArray(raw.arms) ? (raw.arms as Record<string, unknown>[]) : [];
	if (arms.length === 0) at('arms', 'must list the arms');
	const kinds = ['control', 'llm_assisted', 'llm_alone', 'other'];
	arms.forEach((a, i) => {
		if (typeof a.id !== 'string' || a.id === '') at(`arms[${i}].id`, 'is required');
		if (!kinds.includes(a.kind as string))
			at(`arms[${i}].kind`, `must be one of ${kinds.join(', ')}`);
	});
	const scale = Array.isArray(raw.disposition_scale) ? (raw.disposition_scale as string[]) : [];
	if (scale.length < 2) at('disposition_scale', 'must list at least two levels');
	const scenarios = Array.isArray(raw.scenarios)
		? (raw.scenarios as Record<string, unknown>[])
		: [];
	scenarios.forEach((x, i) => {
		if (!scale.includes(x.correct_disposition as string))
			at(`scenarios[${i}].correct_disposition`, 'must be on the disposition scale');
	});
	const given = (raw.analysis_plan ?? {}) as Partial<typeof DEFAULT_PLAN>;
	const plan = { ...DEFAULT_PLAN, ...given };
	if (!['chisq', 'chisq_yates', 'fisher'].includes(plan.test))
		at('analysis_plan.test', 'must be chisq, chisq_yates or fisher');
	if (!['intention_to_treat', 'per_protocol'].includes(plan.population))
		at('analysis_plan.population', 'must be intention_to_treat or per_protocol');
	if (!['difference', 'mixed_logistic'].includes(plan.primary_model))
		at('analysis_plan.primary_model', 'must be difference or mixed_logistic');
	if (!(
		Number.isInteger(plan.used_assistant_min_messages) && plan.used_assistant_min_messages >= 1
	))
		at('analysis_plan.used_assistant_min_messages', 'must be a whole number ≥ 1');
	for (const [outcome, margin] of Object.entries(plan.equivalence_margins ?? {}))
		if (!(typeof margin === 'number' && margin > 0 && margin < 1))
			at(`analysis_plan.equivalence_margins.${outcome}`, 'must be a number between 0 and 1');
	// The population is new (2026-12): a plan written before it means intention to treat, and
	// saying so is not a departure from that plan.
	const planDefaults = (['test', 'alpha', 'bootstrap', 'seed'] as const).filter(
		(k) => given[k] === undefined
	);
	const enrolment = (raw.enrolment ?? {}) as { declined?: unknown };
	const declined = enrolment.declined;
	if (declined !== undefined && !(Number.isInteger(declined) && (declined as number) >= 0))
		at('enrolment.declined', 'must be a whole number ≥ 0');
	return {
		slug: String(s.slug ?? ''),
		title: String(s.title ?? ''),
		protocolSha256: (s.protocol_sha256 as string) ?? null,
		preregistrationSha256: (s.preregistration_sha256 as string) ?? null,
		dispositionScale: scale,
		arms: arms.map((a) => ({
			id: String(a.id),
			kind: a.kind as ArmInfo['kind'],
			label: String(a.label ?? a.id)
		})),
		scenarios: scenarios.map((x) => ({
			id: String(x.id),
			correctDisposition: String(x.correct_disposition)
		})),
		outcomes: (Array.isArray(raw.outcomes) ? raw.outcomes : []) as StudyInfo['outcomes'],
		plan,
		planDefaults,
		enrolment: { declined: typeof declined === 'number' ? declined : null },
		followUps: followUpsOf(raw.follow_ups, at),
		exportedAt: exportedAtOf(source)
	};
}

/** When the export was made: export_report.json's exported_at (null when it is not there). */
function exportedAtOf(source: ExportSource): string | null {
	try {
		const report = JSON.parse(source.read('export_report.json') ?? 'null') as {
			exported_at?: unknown;
		} | null;
		return typeof report?.exported_at === 'string' ? report.exported_at : null;
	} catch {
		return null;
	}
}

function followUpsOf(
	raw: unknown,
	at: (column: string, message: string) => void
): StudyInfo['followUps'] {
	if (raw === undefined) return [];
	if (!Array.isArray(raw)) {
		at('follow_ups', 'must be a list');
		return [];
	}
	return raw.map((f: Record<string, unknown>, i) => {
		const whole = (key: string) => {
			const v = f[key];
			if (!(Number.isInteger(v) && (v as number) >= 0))
				at(`follow_ups[${i}].${key}`, 'must be a whole number ≥ 0');
			return Number(v);
		};
		if (typeof f.id !== 'string' || f.id === '') at(`follow_ups[${i}].id`, 'is required');
		return { id: String(f.id), afterDays: whole('after_days'), windowDays: whole('window_days') };
	});
}
