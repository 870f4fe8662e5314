// `npm run bench`: measures and prints; writes bench/results.json. Not part of `npm test`.
import fs from 'node:fs';
import { benchAnalysis } from './analysis.ts';

const analysis = await benchAnalysis();
const results = { measured_at: new Date().toISOString(), node: process.version, analysis };
fs.writeFileSync(
	new URL('./results.json', import.meta.url),
	`${JSON.stringify(results, null, 2)}\n`
);
console.log('| benchmark | figure | target |');
console.log('|---|---|---|');
console.log(
	`| analyse ${analysis.episodes.toLocaleString('en')} episodes, ${analysis.bootstrap} bootstrap resamples | ${analysis.total_seconds.toFixed(2)} s (read ${analysis.read_seconds.toFixed(2)} s, analyse ${analysis.analyze_seconds.toFixed(2)} s) | < 5 s |`
);
console.log(`| peak memory (RSS) of that run | ${analysis.peak_rss_mb.toFixed(0)} MB | < 500 MB |`);
