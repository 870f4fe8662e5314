// Analysis benchmark: a seeded synthetic study of 100,000 episodes (two arms, four scenarios, two
// proxies per episode), analysed with 2,000 bootstrap resamples. Prints wall time and peak memory.
// Run with `npm run bench`; nothing here is a timed test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
	// The measured part runs in a child process: its peak RSS is the analysis's, not the generator's.
	const out = execFileSync(
		process.execPath,
		['--import', 'tsx', fileURLToPath(new URL('./analysis-child.ts', import.meta.url)), dir],
		{ encoding: 'utf8' }
	);
	const r = rBaseline(dir, bootstrap);
	fs.rmSync(dir, { recursive: true, force: true });
	const measured = JSON.parse(out.trim().split('\n').at(-1)!) as {
		episodes: number;
		read_seconds: number;
		analyze_seconds: number;
		total_seconds: number;
		peak_rss_mb: number;
		proxies: number;
	};
	return { ...measured, bootstrap, r };
}

/**
 * The same export analysed by R (bench/analysis.R: data.table::fread and the same estimands), when
 * Rscript is on this machine; null otherwise. The baseline the issue sets: Bedside at least as
 * fast as R doing the same on the same machine.
 */
function rBaseline(dir: string, bootstrap: number) {
	try {
		execFileSync('Rscript', ['--version'], { stdio: 'ignore' });
	} catch {
		return null;
	}
	const out = execFileSync(
		'Rscript',
		[fileURLToPath(new URL('./analysis.R', import.meta.url)), dir, String(bootstrap)],
		{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }
	);
	return JSON.parse(out.trim().split('\n').at(-1)!) as {
		read_seconds: number;
		analyze_seconds: number;
		total_seconds: number;
	};
}
