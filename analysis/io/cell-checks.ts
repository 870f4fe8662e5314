import type { Column } from './columns.ts';
import { rowNumber, type CsvTable } from './csv-table.ts';
import type { ExportProblem } from './export-types.ts';

// The checks every cell gets from its column's entry in the table (columns.ts): not empty unless
// optional, of its type, among its allowed values, naming a participant that exists. What depends
// on several cells or files (a conversation's arm must be its participant's) is checked by the
// reader beside these.

/** The study's own lists that columns refer to. */
export interface KnownValues {
	arms: ReadonlySet<string>;
	scenarios: ReadonlySet<string>;
	scale: ReadonlySet<string>;
	participants: ReadonlySet<string>;
}

type Check = (value: string) => string | null;

function checkOf(column: Column, known: KnownValues): Check | null {
	const checks: Check[] = [];
	if (column.type === 'binary')
		checks.push((v) => (v === '0' || v === '1' ? null : `must be 0 or 1 (got "${v}")`));
	if (column.type === 'integer') {
		const min = column.min ?? 0;
		checks.push((v) => {
			const n = Number(v);
			return Number.isInteger(n) && n >= min
				? null
				: `must be a whole number ≥ ${min} (got "${v}")`;
		});
	}
	if (column.type === 'number')
		checks.push((v) => (Number.isFinite(Number(v)) ? null : `must be a number (got "${v}")`));
	const values = column.values;
	if (values === 'arms')
		checks.push((v) =>
			known.arms.has(v)
				? null
				: `unknown arm id "${v}" (study.json has ${[...known.arms].join(', ')})`
		);
	else if (values === 'scenarios')
		checks.push((v) => (known.scenarios.has(v) ? null : `unknown scenario "${v}"`));
	else if (values === 'scale')
		checks.push((v) =>
			known.scale.has(v) ? null : `"${v}" is not on the study's disposition scale`
		);
	else if (Array.isArray(values) && !column.open) {
		const allowed = new Set<string>(values);
		checks.push((v) =>
			allowed.has(v) ? null : `must be one of ${[...allowed].join(', ')} (got "${v}")`
		);
	}
	if (column.participant)
		checks.push((v) => (known.participants.has(v) ? null : `unknown participant "${v}"`));
	const empty =
		column.optional === true
			? null
			: column.min === 1
				? `is empty (${column.name}s are numbered 1, 2, …)`
				: 'is empty';
	if (checks.length === 0 && empty === null) return null;
	return (v) => {
		if (v === '') return empty;
		for (const check of checks) {
			const problem = check(v);
			if (problem !== null) return problem;
		}
		return null;
	};
}

/** Every cell of the table checked against its column; problems in row order. */
export function checkCells(
	table: CsvTable,
	columns: readonly Column[],
	known: KnownValues,
	problems: ExportProblem[]
): void {
	const checks = columns
		.map((column) => ({ column, at: table.index.get(column.name), check: checkOf(column, known) }))
		.filter(
			(c): c is { column: Column; at: number; check: Check } =>
				c.at !== undefined && c.check !== null
		);
	table.rows.forEach((row, i) => {
		for (const { column, at, check } of checks) {
			const problem = check(row[at]!);
			if (problem !== null)
				problems.push({
					file: table.file,
					row: rowNumber(i),
					column: column.name,
					message: problem
				});
		}
	});
}
