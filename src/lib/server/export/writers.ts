import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Zip, ZipDeflate } from 'fflate';
import type { StudyExportHandle } from './export.service.ts';

// Where an export goes: a folder (the CLI) or a zip streamed as it is made (the download), in
// both cases one page of rows at a time.

const REPORT = 'export_report.json';

/**
 * The export as a folder. The files are written side by side (each reads its own pages, or its
 * own COPY, on its own connection, so the database formats one while Bedside writes another);
 * export_report.json, which counts what the others wrote, comes last. When one file fails, the
 * others are let finish before the failure is thrown, so nothing is still writing afterwards.
 */
export async function writeExportToDir(handle: StudyExportHandle, dir: string): Promise<void> {
	fs.mkdirSync(dir, { recursive: true });
	const outcomes = await Promise.allSettled(
		handle.files.filter((f) => f.name !== REPORT).map((f) => writeFile(dir, f))
	);
	const failed = outcomes.find((o) => o.status === 'rejected');
	if (failed) throw failed.reason;
	for (const file of handle.files.filter((f) => f.name === REPORT)) await writeFile(dir, file);
}

async function writeFile(dir: string, file: StudyExportHandle['files'][number]): Promise<void> {
	const out = fs.createWriteStream(path.join(dir, file.name));
	try {
		for await (const chunk of file.content()) if (!out.write(chunk)) await once(out, 'drain');
	} finally {
		out.end();
		await once(out, 'finish');
	}
}

/** The export as a zip of the folder `<slug>/`, produced as it is read. */
export function exportZipStream(handle: StudyExportHandle): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	const ready: Uint8Array[] = [];
	let finished = false;
	let failure: unknown;
	const zip = new Zip((error, chunk, final) => {
		if (error) failure = error;
		else ready.push(chunk);
		if (final) finished = true;
	});
	async function* produce(): AsyncGenerator<Uint8Array> {
		for (const file of handle.files) {
			const entry = new ZipDeflate(`${handle.slug}/${file.name}`, { level: 6 });
			zip.add(entry);
			for await (const text of file.content()) {
				entry.push(encoder.encode(text));
				while (ready.length > 0) yield ready.shift()!;
			}
			entry.push(new Uint8Array(0), true);
			while (ready.length > 0) yield ready.shift()!;
		}
		zip.end();
		while (ready.length > 0) yield ready.shift()!;
		if (failure) throw failure;
		if (!finished) throw new Error('the zip did not finish');
	}
	const chunks = produce();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { value, done } = await chunks.next();
				if (done) controller.close();
				else controller.enqueue(value);
			} catch (error) {
				controller.error(error);
			}
		},
		async cancel() {
			await chunks.return(undefined);
		}
	});
}
