import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPORT_FILES, requiredColumns } from '../../analysis/io/columns.ts';
import { readCsvTable } from '../../analysis/io/csv-table.ts';
import { memorySource, type ExportProblem } from '../../analysis/io/export-types.ts';

// One column table feeds the reader, the writers and the codebook; the public description of the
// format (docs/export-format.md) must name every column the table has, in its file's section.

describe('the column table', () => {
	const doc = fs.readFileSync(new URL('../../docs/export-format.md', import.meta.url), 'utf8');
	/** The part of the doc about one file: from its heading (or first mention) to the next heading. */
	const sectionOf = (file: string) => {
		const heading = doc.indexOf(`## \`${file}\``);
		const start = heading >= 0 ? heading : doc.indexOf(`\`${file}\``);
		const end = doc.indexOf('\n## ', start + 1);
		return doc.slice(start, end < 0 ? undefined : end);
	};

	it.each(Object.keys(EXPORT_FILES))('is what docs/export-format.md says of %s', (file) => {
		const section = sectionOf(file);
		expect(section.length).toBeGreaterThan(0);
		for (const column of requiredColumns(file as keyof typeof EXPORT_FILES))
			expect(section, `${file}: ${column}`).toContain(column);
	});

	it('reads a file with quoted fields and the same file without quotes to the same rows', () => {
		const plain = 'a,b,c\r\n1,x,\r\n2,y,z\r\n';
		const quoted = 'a,b,c\r\n"1",x,\r\n2,"y",z\r\n';
		const problems: ExportProblem[] = [];
		const read = (text: string) =>
			readCsvTable(memorySource(new Map([['f.csv', text]])), 'f.csv', ['a', 'b', 'c'], problems);
		expect(read(plain)).toEqual(read(quoted));
		expect(read(plain)!.rows).toEqual([
			['1', 'x', ''],
			['2', 'y', 'z']
		]);
		// A comma inside quotes is a field's, not a separator.
		expect(read('a,b,c\n"1,5",x,y\n')!.rows).toEqual([['1,5', 'x', 'y']]);
		expect(problems).toEqual([]);
		// A ragged row is named in both paths.
		for (const ragged of ['a,b,c\n1,2\n', 'a,b,c\n"1",2\n']) {
			const found: ExportProblem[] = [];
			readCsvTable(memorySource(new Map([['f.csv', ragged]])), 'f.csv', [], found);
			expect(found).toEqual([
				{
					file: 'f.csv',
					row: 2,
					message: 'is not valid CSV: Too few fields: expected 3 fields but parsed 2'
				}
			]);
		}
	});
});
