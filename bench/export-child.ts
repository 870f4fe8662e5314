// One measured export in a process of its own, so its peak memory is the export's alone. Prints
// one JSON line: bytes written, seconds, peak RSS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_ACTOR } from '../src/lib/server/actor.ts';
import { openDatabase } from '../src/lib/server/db/index.ts';
import { studyExport } from '../src/lib/server/export/export.service.ts';
import { writeExportToDir } from '../src/lib/server/export/writers.ts';

const [url, slug] = process.argv.slice(2) as [string, string];
const database = await openDatabase({ kind: 'pg', url, poolSize: 4 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bedside-bench-export-'));
const started = performance.now();
const handle = await studyExport(database.db, slug, { freeText: true, scrub: false }, CLI_ACTOR);
await writeExportToDir(handle, dir);
const seconds = (performance.now() - started) / 1000;
const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
await database.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(
	JSON.stringify({
		bytes,
		seconds,
		rows: handle.report.rows,
		peak_rss_mb: process.resourceUsage().maxRSS / 1024
	})
);
