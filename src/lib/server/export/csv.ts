// RFC 4180 lines: comma-separated, CRLF-free (\n), a cell quoted when it holds a comma, quote, or
// line break, quotes doubled. Missing values are empty cells; lists are `;`-separated.

export type Cell = string | number | null | undefined;

function cell(value: Cell): string {
	if (value === null || value === undefined) return '';
	const text = String(value);
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
	return `${cells.map(cell).join(',')}\n`;
}

export const list = (items: readonly string[] | null | undefined): string =>
	(items ?? []).map((i) => i.replaceAll(';', ',')).join(';');

export const iso = (d: Date | string | null | undefined): string =>
	d === null || d === undefined ? '' : new Date(d).toISOString();

export const bool = (b: boolean | null | undefined): Cell =>
	b === null || b === undefined ? '' : b ? 1 : 0;
