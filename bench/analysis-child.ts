// One measured analysis in a process of its own, so its peak memory is the analysis's alone
// (not the generation of the synthetic export). Prints one JSON line.
import { analyze } from '../analysis/analyze.ts';
import { readExportDir } from '../analysis/io/export-reader.ts';

const dir = process.argv[2]!;
const start = performance.now();
const data = readExportDir(dir);
const read = performance.now();
const result = analyze(data, { seed: 20261122 });
const end = performance.now();
console.log(
	JSON.stringify({
		episodes: data.episodes.length,
		read_seconds: (read - start) / 1000,
		analyze_seconds: (end - read) / 1000,
		total_seconds: (end - start) / 1000,
		peak_rss_mb: process.resourceUsage().maxRSS / 1024,
		proxies: result.proxies.length
	})
);
