import Papa from 'papaparse';
import type { ExportProblem, ExportSource } from './export-types.ts';

// One CSV file of an export as rows of cells with its header's column positions. RFC 4180: a
// file with no double quote at all has no quoted field, so its fields can hold neither a comma
// nor a line break, and splitting lines on commas parses it exactly, at twice Papa Parse's speed
// (the usual case: exports without free text); any quote and Papa Parse reads it.

export interface CsvTable {
	file: string;
	header: string[];
	rows: string[][];
	/** The position of each header column. */
	index: Map<string, number>;
}

/** Row number of rows[i] as a spreadsheet shows it (the header is row 1). */
export const rowNumber = (i: number) => i + 2;

function parse(text: string, file: string, problems: ExportProblem[]): string[][] | null {
	const records: string[][] = [];
	let broken = false;
	const add = (fields: string[], row: number, width: number | null) => {
		if (width !== null && fields.length !== width) {
			broken = true;
			problems.push({
				file,
				row,
				message: `is not valid CSV: Too ${fields.length > width ? 'many' : 'few'} fields: expected ${width} fields but parsed ${fields.length}`
			});
			return;
		}
		records.push(fields);
	};
	if (!text.includes('"')) {
		let width: number | null = null;
		for (let start = 0; start < text.length && problems.length <= 20;) {
			let end = text.indexOf('\n', start);
			if (end < 0) end = text.length;
			const line = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
			start = end + 1;
			if (line === '') continue;
			const fields = line.split(',');
			add(fields, records.length + 1, width);
			width ??= fields.length;
		}
		return broken ? null : records;
	}
	let width: number | null = null;
	Papa.parse<string[]>(text, {
		skipEmptyLines: true,
		step: (result, parser) => {
			const row = records.length + 1;
			if (result.errors.length > 0) {
				broken = true;
				for (const e of result.errors)
					problems.push({ file, row, message: `is not valid CSV: ${e.message}` });
			} else {
				add(result.data, row, width);
				width ??= result.data.length;
			}
			if (problems.length > 20) parser.abort();
		}
	});
	return broken ? null : records;
}

/**
 * A file of the export, or null with the problems recorded: missing, not valid CSV, or without a
 * required column.
 */
export function readCsvTable(
	source: ExportSource,
	file: string,
	required: readonly string[],
	problems: ExportProblem[]
): CsvTable | null {
	const raw = source.read(file);
	if (raw === undefined) {
		problems.push({ file, message: 'is missing' });
		return null;
	}
	const records = parse(raw.replace(/^\uFEFF/, ''), file, problems);
	if (records === null) return null;
	const header = records.shift() ?? [];
	const index = new Map(header.map((name, i) => [name, i]));
	const missing = required.filter((c) => !index.has(c));
	for (const column of missing)
		problems.push({ file, row: 1, column, message: 'required column is missing' });
	if (missing.length > 0) return null;
	return { file, header, rows: records, index };
}
