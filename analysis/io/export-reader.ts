import { checkCells, type KnownValues } from './cell-checks.ts';
import { EXPORT_FILES, requiredColumns, type ExportFileName } from './columns.ts';
import { readCsvTable, rowNumber, type CsvTable } from './csv-table.ts';
import {
	type FollowUpResponse,
	ExportError,
	folderSource,
	type Deviation,
	type Episode,
	type ExportProblem,
	type ExportSource,
	type Measure,
	type Participant,
	type Recommendation,
	type StudyExport
} from './export-types.ts';
import { readStudyJson } from './study-json.ts';

// Reads a study export (docs/export-format.md) into typed rows, checking everything the analysis
// relies on: each cell against its column in the table (columns.ts), then what spans cells and
// files. Every problem names its file, row (as a spreadsheet shows it: the header is row 1) and
// column; nothing is analysed until the whole export is clean. The files come from a source: a
// folder, a zip's entries, or the app's export held in memory.

export * from './export-types.ts';
export { PARTICIPANT_STATUSES } from './columns.ts';

/** Reads an export folder. Throws ExportError with every problem found. */
export function readExportDir(dir: string): StudyExport {
	return readExport(folderSource(dir));
}

/** A cell reader for a table: the value of a named column in a row. */
function cells(table: CsvTable) {
	return (column: string) => {
		const at = table.index.get(column)!;
		return (row: string[]) => row[at]!;
	};
}

/** Records a problem of row i of a table. */
function reporter(table: CsvTable, problems: ExportProblem[]) {
	return (i: number, column: string, message: string) =>
		problems.push({ file: table.file, row: rowNumber(i), column, message });
}

const binary = (v: string): 0 | 1 | null => (v === '' ? null : v === '1' ? 1 : 0);
const whole = (v: string): number | null => (v === '' ? null : Number(v));

/** Reads an export from a source. Throws ExportError with every problem found. */
export function readExport(source: ExportSource): StudyExport {
	const problems: ExportProblem[] = [];
	const study = readStudyJson(source, problems);
	// One file at a time, its raw rows dropped once converted: the peak is one file's cells, not
	// all of them. After a file that cannot be read, the rest are only checked for structure.
	let readable = study !== undefined && problems.length === 0;
	const table = (file: ExportFileName) => {
		const t = readCsvTable(source, file, requiredColumns(file), problems);
		if (t === null) readable = false;
		return readable ? t : null;
	};
	const participantIds = new Set<string>();
	const known: KnownValues = {
		arms: new Set(study?.arms.map((a) => a.id)),
		scenarios: new Set(study?.scenarios.map((s) => s.id)),
		scale: new Set(study?.dispositionScale),
		participants: participantIds
	};
	const check = (t: CsvTable, file: ExportFileName) =>
		checkCells(t, EXPORT_FILES[file], known, problems);

	let participants: Participant[] = [];
	let t = table('participants.csv');
	if (t) {
		for (const r of t.rows) participantIds.add(r[t.index.get('participant_id')!]!);
		check(t, 'participants.csv');
		participants = readParticipants(t, study!, problems);
	}
	let episodes: Episode[] = [];
	t = table('episodes.csv');
	if (t) {
		check(t, 'episodes.csv');
		episodes = readEpisodes(t, study!, problems);
	}
	let measures: Measure[] = [];
	t = table('measures.csv');
	if (t) {
		check(t, 'measures.csv');
		measures = readMeasures(t, problems);
	}
	let recommendations: Recommendation[] = [];
	t = table('recommendations.csv');
	if (t) {
		check(t, 'recommendations.csv');
		recommendations = readRecommendations(t, participants, episodes, problems);
	}
	t = source.read('deviations.csv') === undefined ? null : table('deviations.csv');
	const deviations = t ? readDeviations(t, check) : null;
	t = source.read('follow_ups.csv') === undefined ? null : table('follow_ups.csv');
	const followUps = t ? readFollowUps(t, check) : null;
	if (problems.length > 0 || !readable) throw new ExportError(problems);
	return {
		study: study!,
		participants,
		episodes,
		measures,
		recommendations,
		deviations,
		followUps
	};
}

function readFollowUps(
	table: CsvTable,
	check: (t: CsvTable, file: ExportFileName) => void
): FollowUpResponse[] {
	check(table, 'follow_ups.csv');
	const at = cells(table);
	const [participant, followUp, answeredAt, days] = [
		at('participant_id'),
		at('follow_up'),
		at('answered_at'),
		at('days_since_completion')
	];
	return table.rows.map((r) => ({
		participant: participant(r),
		followUp: followUp(r),
		answeredAt: answeredAt(r),
		days: Number(days(r))
	}));
}

function readDeviations(
	table: CsvTable,
	check: (t: CsvTable, file: ExportFileName) => void
): Deviation[] {
	check(table, 'deviations.csv');
	const at = cells(table);
	const [kind, arm, participant, episode] = [
		at('kind'),
		at('arm_id'),
		at('participant_id'),
		at('episode')
	];
	return table.rows.map((r) => ({
		kind: kind(r),
		arm: arm(r),
		participant: participant(r),
		episode: whole(episode(r))
	}));
}

type Study = NonNullable<ReturnType<typeof readStudyJson>>;

function readParticipants(table: CsvTable, study: Study, problems: ExportProblem[]) {
	const at = cells(table);
	const [id, arm, stratum, status, reason, completedAt] = [
		at('participant_id'),
		at('arm_id'),
		at('stratum'),
		at('status'),
		at('exclusion_reason'),
		at('completed_at')
	];
	const alone = new Set(study.arms.filter((a) => a.kind === 'llm_alone').map((a) => a.id));
	const seen = new Set<string>();
	const problem = reporter(table, problems);
	return table.rows.map((r, i): Participant => {
		if (seen.has(id(r))) problem(i, 'participant_id', `"${id(r)}" appears twice`);
		seen.add(id(r));
		if (alone.has(arm(r)))
			problem(i, 'arm_id', `"${arm(r)}" is the model-alone arm: people are never allocated to it`);
		return {
			id: id(r),
			arm: arm(r),
			stratum: stratum(r),
			status: status(r) as Participant['status'],
			exclusionReason: reason(r),
			completedAt: completedAt(r)
		};
	});
}

function readEpisodes(table: CsvTable, study: Study, problems: ExportProblem[]) {
	const at = cells(table);
	const [participant, episode, scenario, disposition, dispositionCorrect, conditionCorrect] = [
		at('participant_id'),
		at('episode'),
		at('scenario_id'),
		at('disposition'),
		at('disposition_correct'),
		at('condition_correct')
	];
	const submitted = at('submitted_at');
	const optional = (column: string) => (table.index.has(column) ? at(column) : () => '');
	const sent = optional('user_messages');
	const initial = optional('initial_disposition');
	const initialCorrect = optional('initial_disposition_correct');
	const pasted = optional('pasted_chars');
	const hidden = optional('hidden_events');
	const assist = optional('assist_seconds');
	const typing = optional('typing_seconds');
	const number = (v: string) => (v === '' ? null : Number(v));
	const correct = new Map(study.scenarios.map((x) => [x.id, x.correctDisposition]));
	const seen = new Set<string>();
	const problem = reporter(table, problems);
	return table.rows.map((r, i): Episode => {
		const key = `${participant(r)}\u0000${episode(r)}`;
		if (episode(r) !== '' && seen.has(key))
			problem(
				i,
				'episode',
				`episode ${episode(r)} of participant "${participant(r)}" appears twice`
			);
		seen.add(key);
		const said = binary(dispositionCorrect(r));
		const key_ = correct.get(scenario(r));
		const valid = dispositionCorrect(r) === '0' || dispositionCorrect(r) === '1';
		if (disposition(r) && valid && key_ !== undefined && said !== (disposition(r) === key_ ? 1 : 0))
			problem(
				i,
				'disposition_correct',
				`is ${said}, but "${disposition(r)}" ${disposition(r) === key_ ? 'is' : 'is not'} the correct disposition of scenario "${scenario(r)}" ("${key_}")`
			);
		return {
			participant: participant(r),
			episode: whole(episode(r)) ?? 0,
			scenario: scenario(r),
			disposition: disposition(r) || null,
			dispositionCorrect: said,
			conditionCorrect: binary(conditionCorrect(r)),
			submitted: submitted(r) !== '',
			userMessages: whole(sent(r)),
			initialDisposition: initial(r) || null,
			initialDispositionCorrect: binary(initialCorrect(r)),
			pastedChars: whole(pasted(r)),
			hiddenEvents: whole(hidden(r)),
			typingSeconds: number(typing(r)),
			assistSeconds: number(assist(r))
		};
	});
}

function readMeasures(table: CsvTable, problems: ExportProblem[]) {
	const at = cells(table);
	const [participant, episode, measure, kind, value] = [
		at('participant_id'),
		at('episode'),
		at('measure'),
		at('kind'),
		at('value')
	];
	return table.rows.map((r, i): Measure => {
		const text = value(r);
		const number = text === '' ? null : Number(text);
		if (kind(r) !== 'covariate' && !(number !== null && Number.isFinite(number)))
			problems.push({
				file: table.file,
				row: rowNumber(i),
				column: 'value',
				message: `must be a number for a ${kind(r)} measure (got "${text}")`
			});
		return {
			participant: participant(r),
			episode: whole(episode(r)),
			measure: measure(r),
			kind: kind(r) as Measure['kind'],
			value: number !== null && Number.isFinite(number) ? number : null,
			text
		};
	});
}

function readRecommendations(
	table: CsvTable,
	participants: readonly Participant[],
	episodes: readonly Episode[],
	problems: ExportProblem[]
) {
	const at = cells(table);
	const [source, participant, episode, run, arm, scenario, coder] = [
		at('source'),
		at('participant_id'),
		at('episode'),
		at('run_id'),
		at('arm_id'),
		at('scenario_id'),
		at('coder')
	];
	const [disposition, dispositionCorrect, conditionCorrect] = [
		at('disposition'),
		at('disposition_correct'),
		at('condition_correct')
	];
	const armOf = new Map(participants.map((p) => [p.id, p.arm]));
	const scenarioOf = new Map(
		episodes.map((e) => [`${e.participant}\u0000${e.episode}`, e.scenario])
	);
	const problem = reporter(table, problems);
	return table.rows.map((r, i): Recommendation => {
		if (source(r) === 'conversation') {
			// A conversation belongs to one episode of one participant: its arm and scenario are theirs.
			const known = armOf.has(participant(r));
			if (participant(r) === '') problem(i, 'participant_id', 'is required for a conversation row');
			const own = scenarioOf.get(`${participant(r)}\u0000${episode(r)}`);
			if (known && own === undefined)
				problem(
					i,
					'episode',
					`participant "${participant(r)}" has no episode "${episode(r)}" in episodes.csv`
				);
			if (known && armOf.get(participant(r)) !== arm(r))
				problem(
					i,
					'arm_id',
					`is "${arm(r)}", but participant "${participant(r)}" is in arm "${armOf.get(participant(r))}"`
				);
			if (own !== undefined && own !== scenario(r))
				problem(
					i,
					'scenario_id',
					`is "${scenario(r)}", but episode ${episode(r)} of participant "${participant(r)}" is scenario "${own}"`
				);
		}
		if (source(r) === 'benchmark' && run(r) === '')
			problem(i, 'run_id', 'is required for a benchmark row');
		if (!/^(rule|model:.+|person:.+)$/.test(coder(r)))
			problem(i, 'coder', `must be rule, model:<name> or person:<id> (got "${coder(r)}")`);
		return {
			source: source(r) as Recommendation['source'],
			participant: participant(r) || null,
			episode: whole(episode(r)),
			runId: run(r) || null,
			arm: arm(r),
			scenario: scenario(r),
			coder: coder(r),
			disposition: disposition(r) || null,
			dispositionCorrect: binary(dispositionCorrect(r)),
			conditionCorrect: binary(conditionCorrect(r))
		};
	});
}
