// RFC 4180 lines: comma-separated, CRLF-free (\n), a cell quoted when it holds a comma, quote, or
// line break, quotes doubled. Missing values are empty cells; lists are `;`-separated.

export type Cell = string | number | null | undefined;

// A spreadsheet runs a cell that starts with =, +, -, @, tab or carriage return as a formula
// (=HYPERLINK(...) can send data away when an analyst opens the file). OWASP's rule: put a single
// quote in front of such a text cell. Numbers are never touched; the export's report counts the
// cells changed, and a raw export (for R or Python) leaves every cell as stored.
const FORMULA_START = /^[=+\-@\t\r]/;

/** The text of a cell, neutralized against spreadsheet formulas when asked; true if it changed. */
export function formulaSafe(value: string): string {
	return FORMULA_START.test(value) ? `'${value}` : value;
}

function cell(value: Cell, neutralize: boolean): string {
	if (value === null || value === undefined) return '';
	const text = typeof value === 'string' && neutralize ? formulaSafe(value) : String(value);
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line; `neutralize` applies the spreadsheet-formula rule to text cells. */
export function csvLine(cells: readonly Cell[], neutralize = false): string {
	return `${cells.map((c) => cell(c, neutralize)).join(',')}\n`;
}

/** How many text cells of a line the formula rule changes. */
export function formulaCells(cells: readonly Cell[]): number {
	return cells.filter((c) => typeof c === 'string' && FORMULA_START.test(c)).length;
}

export const list = (items: readonly string[] | null | undefined): string =>
	(items ?? []).map((i) => i.replaceAll(';', ',')).join(';');

export const iso = (d: Date | string | null | undefined): string =>
	d === null || d === undefined ? '' : new Date(d).toISOString();

export const bool = (b: boolean | null | undefined): Cell =>
	b === null || b === undefined ? '' : b ? 1 : 0;
