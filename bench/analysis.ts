// Analysis benchmark: a seeded synthetic study of 100,000 episodes (two arms, four scenarios, two
// proxies per episode), analysed with 2,000 bootstrap resamples. Prints wall time and peak memory.
// Run with `npm run bench`; nothing here is a timed test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyze } from '../analysis/analyze.ts';
import { readExportDir } from '../analysis/io/export-reader.ts';
import { writeSyntheticExport } from '../tests/helpers/synthetic-export.ts';

export async function benchAnalysis(episodes = 100_000, bootstrap = 2000) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bedside-bench-'));
	writeSyntheticExport(dir, {
		participantsPerArm: episodes / 2,
		llmAccuracy: 0.8,
		uptake: 0.5,
		ownAccuracy: 0.4,
		benchmarkRuns: 20,
		seed: 'bench',
		proxies: true
	});
	const study = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8'));
	study.analysis_plan.bootstrap = bootstrap;
	fs.writeFileSync(path.join(dir, 'study.json'), JSON.stringify(study));
	const rssBefore = process.memoryUsage().rss;
	const start = performance.now();
	const data = readExportDir(dir);
	const read = performance.now();
	const result = analyze(data, { seed: 20261122 });
	const end = performance.now();
	fs.rmSync(dir, { recursive: true, force: true });
	return {
		episodes: data.episodes.length,
		bootstrap,
		read_seconds: (read - start) / 1000,
		analyze_seconds: (end - read) / 1000,
		total_seconds: (end - start) / 1000,
		peak_rss_mb: process.resourceUsage().maxRSS / 1024,
		rss_before_mb: rssBefore / 1024 / 1024,
		proxies: result.proxies.length
	};
}
