import fs from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { readExport } from './export-reader.ts';
import { ExportError, memorySource, type StudyExport } from './export-types.ts';

// A zipped export (as Bedside's download makes it: the files in one folder, or at the top):
// its entries read in memory like any export folder.

export function readExportZip(file: string): StudyExport {
	let entries: Record<string, Uint8Array>;
	try {
		entries = unzipSync(new Uint8Array(fs.readFileSync(file)));
	} catch (error) {
		throw new ExportError([
			{ file: path.basename(file), message: `is not a readable zip: ${(error as Error).message}` }
		]);
	}
	const names = Object.keys(entries).filter((n) => !n.endsWith('/'));
	const unsafe = names.find((n) => n.startsWith('/') || n.split('/').includes('..'));
	if (unsafe) throw new ExportError([{ file: unsafe, message: 'has an unsafe path in the zip' }]);
	const studyJson = names.filter((n) => n.split('/').at(-1) === 'study.json');
	if (studyJson.length !== 1)
		throw new ExportError([
			{
				file: 'study.json',
				message: studyJson.length ? 'appears more than once in the zip' : 'is missing from the zip'
			}
		]);
	const prefix = studyJson[0]!.slice(0, -'study.json'.length);
	const files = new Map<string, string>();
	for (const name of names) {
		if (!name.startsWith(prefix) || name.slice(prefix.length).includes('/')) continue;
		files.set(name.slice(prefix.length), strFromU8(entries[name]!));
	}
	return readExport(memorySource(files));
}
