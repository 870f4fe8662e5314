import fs from 'node:fs';
import path from 'node:path';
import Papa from 'papaparse';

// Reads a study export (docs/export-format.md) into typed rows, checking everything the
// analysis relies on. Every problem names its file, row (as a spreadsheet shows it: the header is
// row 1) and column; nothing is analysed until the whole export is clean. The files come from a
// source: a folder, a zip's entries, or the app's export held in memory (no temporary folder).

/** Where an export's files are read from: a file's text, or undefined when it is not there. */
export interface ExportSource {
	read(file: string): string | undefined;
}

/** An export folder on disk. */
export function folderSource(dir: string): ExportSource {
	return {
		read: (file) => {
			const full = path.join(dir, file);
			return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
		}
	};
}

/** Files already in memory, by name. */
export function memorySource(files: ReadonlyMap<string, string>): ExportSource {
	return { read: (file) => files.get(file) };
}

export interface ExportProblem {
	file: string;
	row?: number;
	column?: string;
	message: string;
}

export class ExportError extends Error {
	constructor(readonly problems: ExportProblem[]) {
		super(
			`the export has ${problems.length} problem(s):\n` +
				problems
					.slice(0, 50)
					.map(
						(p) =>
							`  ${p.file}${p.row ? ` row ${p.row}` : ''}${p.column ? ` column ${p.column}` : ''}: ${p.message}`
					)
					.join('\n') +
				(problems.length > 50 ? `\n  … and ${problems.length - 50} more` : '')
		);
		this.name = 'ExportError';
	}
}

export interface ArmInfo {
	id: string;
	kind: 'control' | 'llm_assisted' | 'llm_alone' | 'other';
	label: string;
}

export interface StudyInfo {
	slug: string;
	title: string;
	protocolSha256: string | null;
	preregistrationSha256: string | null;
	dispositionScale: string[];
	arms: ArmInfo[];
	scenarios: { id: string; correctDisposition: string }[];
	outcomes: { name: string; role: 'primary' | 'secondary'; kind: 'clinical' | 'proxy' }[];
	plan: {
		alpha: number;
		test: 'chisq' | 'chisq_yates' | 'fisher';
		bootstrap: number;
		seed: number;
		population: 'intention_to_treat' | 'per_protocol';
	};
	/** The plan fields the export did not give, for which the defaults stand in. */
	planDefaults: string[];
	/** People who declined consent (counted, not exported); null when the export does not say. */
	enrolment: { declined: number | null };
}

/** The participant statuses of participants.csv (docs/export-format.md). */
export const PARTICIPANT_STATUSES = [
	'consented',
	'allocated',
	'in_progress',
	'completed',
	'withdrawn',
	'excluded'
] as const;

export interface Participant {
	id: string;
	arm: string;
	stratum: string;
	status: (typeof PARTICIPANT_STATUSES)[number];
	exclusionReason: string;
}

export interface Episode {
	participant: string;
	episode: number;
	scenario: string;
	disposition: string | null;
	dispositionCorrect: 0 | 1 | null;
	conditionCorrect: 0 | 1 | null;
	submitted: boolean;
}

export interface Measure {
	participant: string;
	episode: number | null;
	measure: string;
	kind: 'proxy' | 'clinical' | 'covariate';
	value: number | null;
	text: string;
}

export interface Recommendation {
	source: 'conversation' | 'benchmark';
	participant: string | null;
	episode: number | null;
	runId: string | null;
	arm: string;
	scenario: string;
	coder: string;
	disposition: string | null;
	dispositionCorrect: 0 | 1 | null;
	conditionCorrect: 0 | 1 | null;
}

/** A protocol deviation the platform recorded (deviations.csv). */
export interface Deviation {
	kind: string;
	arm: string;
	participant: string;
	episode: number | null;
}

export interface StudyExport {
	study: StudyInfo;
	participants: Participant[];
	episodes: Episode[];
	measures: Measure[];
	recommendations: Recommendation[];
	/** Null when the export has no deviations.csv (a hand-made export need not). */
	deviations: Deviation[] | null;
}

/** The required columns of each CSV file (docs/export-format.md), in the spec's order. */
export const EXPORT_COLUMNS = {
	'participants.csv': [
		'participant_id',
		'arm_id',
		'stratum',
		'status',
		'consented_at',
		'allocated_at',
		'completed_at',
		'exclusion_reason'
	],
	'episodes.csv': [
		'participant_id',
		'episode',
		'scenario_id',
		'disposition',
		'disposition_correct',
		'conditions_text',
		'conditions_coded',
		'condition_correct',
		'started_at',
		'submitted_at'
	],
	'measures.csv': ['participant_id', 'episode', 'measure', 'kind', 'value', 'recorded_at'],
	'recommendations.csv': [
		'source',
		'participant_id',
		'episode',
		'run_id',
		'arm_id',
		'scenario_id',
		'coder',
		'disposition',
		'disposition_correct',
		'conditions_coded',
		'condition_correct'
	]
} as const satisfies Record<string, readonly string[]>;
const REQUIRED: Record<string, readonly string[]> = EXPORT_COLUMNS;

/** Columns of the optional deviations.csv the analysis reads. */
const DEVIATION_COLUMNS = ['kind', 'arm_id', 'participant_id', 'episode'] as const;

const DEFAULT_PLAN = {
	alpha: 0.05,
	test: 'chisq' as const,
	bootstrap: 2000,
	seed: 20261122,
	population: 'intention_to_treat' as const
};

/** Reads an export folder. Throws ExportError with every problem found. */
export function readExportDir(dir: string): StudyExport {
	return readExport(folderSource(dir));
}

/** Reads an export from a source. Throws ExportError with every problem found. */
export function readExport(source: ExportSource): StudyExport {
	const problems: ExportProblem[] = [];
	const study = readStudyJson(source, problems);
	const tables = Object.fromEntries(
		Object.keys(REQUIRED).map((file) => [file, readCsv(source, file, REQUIRED[file]!, problems)])
	);
	const deviationRows =
		source.read('deviations.csv') === undefined
			? null
			: readCsv(source, 'deviations.csv', DEVIATION_COLUMNS, problems);
	if (problems.length > 0 || !study) throw new ExportError(problems);
	// Each table is handed over once and dropped here, so its raw records can be collected as soon
	// as they are converted (the peak is one raw table, not all of them).
	const take = (file: string) => {
		const table = tables[file]!;
		delete tables[file];
		return table;
	};

	const arms = new Set(study.arms.map((a) => a.id));
	const scenarios = new Set(study.scenarios.map((s) => s.id));
	const scale = new Set(study.dispositionScale);
	const check = (ok: boolean, file: string, row: number, column: string, message: string) => {
		if (!ok) problems.push({ file, row, column, message });
	};
	const binary = (value: string, file: string, row: number, column: string): 0 | 1 | null => {
		if (value === '') return null;
		check(value === '0' || value === '1', file, row, column, `must be 0 or 1 (got "${value}")`);
		return value === '1' ? 1 : 0;
	};
	const integer = (value: string, file: string, row: number, column: string): number | null => {
		if (value === '') return null;
		const n = Number(value);
		check(
			Number.isInteger(n) && n >= 1,
			file,
			row,
			column,
			`must be a whole number ≥ 1 (got "${value}")`
		);
		return n;
	};

	const participants: Participant[] = [];
	const seen = new Set<string>();
	for (const { row, r } of take('participants.csv')) {
		const file = 'participants.csv';
		check(r.participant_id !== '', file, row, 'participant_id', 'is empty');
		check(
			!seen.has(r.participant_id!),
			file,
			row,
			'participant_id',
			`"${r.participant_id}" appears twice`
		);
		seen.add(r.participant_id!);
		check(
			arms.has(r.arm_id!) || r.arm_id === '',
			file,
			row,
			'arm_id',
			`unknown arm id "${r.arm_id}" (study.json has ${[...arms].join(', ')})`
		);
		check(
			study.arms.find((a) => a.id === r.arm_id)?.kind !== 'llm_alone',
			file,
			row,
			'arm_id',
			`"${r.arm_id}" is the model-alone arm: people are never allocated to it`
		);
		const statuses: readonly string[] = PARTICIPANT_STATUSES;
		check(
			statuses.includes(r.status!),
			file,
			row,
			'status',
			`must be one of ${statuses.join(', ')} (got "${r.status}")`
		);
		participants.push({
			id: r.participant_id!,
			arm: r.arm_id!,
			stratum: r.stratum!,
			status: r.status as Participant['status'],
			exclusionReason: r.exclusion_reason!
		});
	}

	const episodes: Episode[] = [];
	const armOf = new Map(participants.map((p) => [p.id, p.arm]));
	const correctDisposition = new Map(study.scenarios.map((x) => [x.id, x.correctDisposition]));
	/** `participant\0episode` → scenario: each episode once, and what a conversation must match. */
	const episodeScenario = new Map<string, string>();
	for (const { row, r } of take('episodes.csv')) {
		const file = 'episodes.csv';
		check(
			seen.has(r.participant_id!),
			file,
			row,
			'participant_id',
			`unknown participant "${r.participant_id}"`
		);
		check(
			scenarios.has(r.scenario_id!),
			file,
			row,
			'scenario_id',
			`unknown scenario "${r.scenario_id}"`
		);
		check(
			r.disposition === '' || scale.has(r.disposition!),
			file,
			row,
			'disposition',
			`"${r.disposition}" is not on the study's disposition scale`
		);
		check(r.episode !== '', file, row, 'episode', 'is empty (episodes are numbered 1, 2, …)');
		const key = `${r.participant_id}\u0000${r.episode}`;
		check(
			!episodeScenario.has(key),
			file,
			row,
			'episode',
			`episode ${r.episode} of participant "${r.participant_id}" appears twice`
		);
		episodeScenario.set(key, r.scenario_id!);
		const dispositionCorrect = binary(r.disposition_correct!, file, row, 'disposition_correct');
		const correct = correctDisposition.get(r.scenario_id!);
		if (r.disposition && dispositionCorrect !== null && correct !== undefined)
			check(
				dispositionCorrect === (r.disposition === correct ? 1 : 0),
				file,
				row,
				'disposition_correct',
				`is ${dispositionCorrect}, but "${r.disposition}" ${r.disposition === correct ? 'is' : 'is not'} the correct disposition of scenario "${r.scenario_id}" ("${correct}")`
			);
		episodes.push({
			participant: r.participant_id!,
			episode: integer(r.episode!, file, row, 'episode') ?? 0,
			scenario: r.scenario_id!,
			disposition: r.disposition || null,
			dispositionCorrect,
			conditionCorrect: binary(r.condition_correct!, file, row, 'condition_correct'),
			submitted: r.submitted_at !== ''
		});
	}

	const measures: Measure[] = [];
	for (const { row, r } of take('measures.csv')) {
		const file = 'measures.csv';
		check(
			seen.has(r.participant_id!),
			file,
			row,
			'participant_id',
			`unknown participant "${r.participant_id}"`
		);
		check(
			['proxy', 'clinical', 'covariate'].includes(r.kind!),
			file,
			row,
			'kind',
			`must be proxy, clinical or covariate (got "${r.kind}")`
		);
		const value = r.value === '' ? null : Number(r.value);
		if (r.kind !== 'covariate')
			check(
				value !== null && Number.isFinite(value),
				file,
				row,
				'value',
				`must be a number for a ${r.kind} measure (got "${r.value}")`
			);
		measures.push({
			participant: r.participant_id!,
			episode: integer(r.episode!, file, row, 'episode'),
			measure: r.measure!,
			kind: r.kind as Measure['kind'],
			value: value !== null && Number.isFinite(value) ? value : null,
			text: r.value!
		});
	}

	const recommendations: Recommendation[] = [];
	for (const { row, r } of take('recommendations.csv')) {
		const file = 'recommendations.csv';
		check(
			r.source === 'conversation' || r.source === 'benchmark',
			file,
			row,
			'source',
			`must be conversation or benchmark (got "${r.source}")`
		);
		if (r.source === 'conversation') {
			check(
				seen.has(r.participant_id!),
				file,
				row,
				'participant_id',
				`unknown participant "${r.participant_id}"`
			);
			// A conversation belongs to one episode of one participant: its arm and scenario are theirs.
			const scenario = episodeScenario.get(`${r.participant_id}\u0000${r.episode}`);
			check(
				!seen.has(r.participant_id!) || scenario !== undefined,
				file,
				row,
				'episode',
				`participant "${r.participant_id}" has no episode "${r.episode}" in episodes.csv`
			);
			check(
				!seen.has(r.participant_id!) || armOf.get(r.participant_id!) === r.arm_id,
				file,
				row,
				'arm_id',
				`is "${r.arm_id}", but participant "${r.participant_id}" is in arm "${armOf.get(r.participant_id!)}"`
			);
			check(
				scenario === undefined || scenario === r.scenario_id,
				file,
				row,
				'scenario_id',
				`is "${r.scenario_id}", but episode ${r.episode} of participant "${r.participant_id}" is scenario "${scenario}"`
			);
		}
		if (r.source === 'benchmark')
			check(r.run_id !== '', file, row, 'run_id', 'is required for a benchmark row');
		check(arms.has(r.arm_id!), file, row, 'arm_id', `unknown arm id "${r.arm_id}"`);
		check(
			scenarios.has(r.scenario_id!),
			file,
			row,
			'scenario_id',
			`unknown scenario "${r.scenario_id}"`
		);
		check(
			/^(rule|model:.+|person:.+)$/.test(r.coder!),
			file,
			row,
			'coder',
			`must be rule, model:<name> or person:<id> (got "${r.coder}")`
		);
		recommendations.push({
			source: r.source as Recommendation['source'],
			participant: r.participant_id || null,
			episode: integer(r.episode!, file, row, 'episode'),
			runId: r.run_id || null,
			arm: r.arm_id!,
			scenario: r.scenario_id!,
			coder: r.coder!,
			disposition: r.disposition || null,
			dispositionCorrect: binary(r.disposition_correct!, file, row, 'disposition_correct'),
			conditionCorrect: binary(r.condition_correct!, file, row, 'condition_correct')
		});
	}
	const deviations = deviationRows?.map(({ row, r }) => {
		const file = 'deviations.csv';
		check(
			r.participant_id === '' || seen.has(r.participant_id!),
			file,
			row,
			'participant_id',
			`unknown participant "${r.participant_id}"`
		);
		check(r.kind !== '', file, row, 'kind', 'is empty');
		return {
			kind: r.kind!,
			arm: r.arm_id!,
			participant: r.participant_id!,
			episode: integer(r.episode!, file, row, 'episode')
		};
	});
	if (problems.length > 0) throw new ExportError(problems);
	return {
		study,
		participants,
		episodes,
		measures,
		recommendations,
		deviations: deviations ?? null
	};
}

function readCsv(
	source: ExportSource,
	file: string,
	required: readonly string[],
	problems: ExportProblem[]
): { row: number; r: Record<string, string> }[] {
	const raw = source.read(file);
	if (raw === undefined) {
		problems.push({ file, message: 'is missing' });
		return [];
	}
	// Papa Parse (RFC 4180) into arrays, then one object per record keyed by the header: its
	// header mode does the same but checks every field for dynamic typing, a third of the parse
	// time at 100,000 rows. Row numbers count the header as row 1.
	const text = raw.replace(/^\uFEFF/, '');
	// Row by row (step), so the parsed arrays are never all held at once.
	let header: string[] | null = null;
	let index = 0;
	let broken = false;
	const records: { row: number; r: Record<string, string> }[] = [];
	Papa.parse<string[]>(text, {
		skipEmptyLines: true,
		step: (result, parser) => {
			const row = ++index; // the header is row 1
			if (result.errors.length > 0) {
				broken = true;
				for (const e of result.errors)
					problems.push({ file, row, message: `is not valid CSV: ${e.message}` });
				if (problems.length > 20) parser.abort();
				return;
			}
			const fields = result.data;
			if (header === null) {
				header = fields;
				return;
			}
			if (fields.length !== header.length) {
				broken = true;
				problems.push({
					file,
					row,
					message: `is not valid CSV: Too ${fields.length > header.length ? 'many' : 'few'} fields: expected ${header.length} fields but parsed ${fields.length}`
				});
				if (problems.length > 20) parser.abort();
				return;
			}
			if (broken) return;
			const r: Record<string, string> = {};
			for (let j = 0; j < header.length; j++) r[header[j]!] = fields[j]!;
			records.push({ row, r });
		}
	});
	if (broken) return [];
	const columns: string[] = header ?? [];
	const missing = required.filter((c) => !columns.includes(c));
	for (const column of missing)
		problems.push({ file, row: 1, column, message: 'required column is missing' });
	if (missing.length > 0) return [];
	return records;
}

function readStudyJson(source: ExportSource, problems: ExportProblem[]): StudyInfo | undefined {
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
		enrolment: { declined: typeof declined === 'number' ? declined : null }
	};
}
