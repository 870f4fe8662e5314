import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { analyze } from '../../analysis/analyze.ts';
import { readExportDir } from '../../analysis/io/export-reader.ts';
import { htmlReport } from '../../analysis/report.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { tempDir } from '../helpers/server.ts';
import { writeSyntheticExport, type Truth } from '../helpers/synthetic-export.ts';

// The HTML report as a reader's browser opens it: no console error (a chart attribute at NaN is
// one), no script, nothing blocked by its own Content-Security-Policy, on an interim study with
// nobody analysed yet and on a finished one with every CONSORT path and clustered episodes.

const FINISHED: Truth = {
	participantsPerArm: 120,
	llmAccuracy: 0.8,
	uptake: 0.5,
	ownAccuracy: 0.4,
	benchmarkRuns: 6,
	seed: 'browser',
	episodesPerParticipant: 2,
	proxies: true,
	covariates: true,
	preregistrationSha256: 'cd'.repeat(32),
	flow: {
		declined: 4,
		screenedOut: 3,
		awaiting: 1,
		notReceived: 0.05,
		withdrewAfterFirst: 0.05,
		unfinished: 0.05,
		excludedAfterRandomization: 0.05,
		failedAttention: 0.1
	}
};

describe('the HTML report in Chromium', () => {
	let browser: Browser;
	beforeAll(async () => {
		browser = await launchBrowser();
	});
	afterAll(async () => {
		await browser?.close();
	});

	async function consoleErrors(html: string) {
		const page = await browser.newPage();
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
		await page.setContent(html, { waitUntil: 'load' });
		const charts = await page.locator('figure svg').count();
		await page.close();
		return { errors, charts };
	}

	it('logs no error on a finished study, with every chart drawn', async () => {
		const dir = tempDir('bedside-report-browser-');
		writeSyntheticExport(dir, FINISHED);
		const { errors, charts } = await consoleErrors(htmlReport(analyze(readExportDir(dir))));
		expect(errors).toEqual([]);
		expect(charts).toBeGreaterThanOrEqual(5);
	});

	it('logs no error on an interim study where nobody has decided yet', async () => {
		const dir = tempDir('bedside-report-interim-');
		writeSyntheticExport(dir, {
			...FINISHED,
			participantsPerArm: 6,
			flow: { ...FINISHED.flow!, notReceived: 1 }
		});
		const result = analyze(readExportDir(dir));
		expect(result.arms.every((a) => a.n === 0)).toBe(true);
		const { errors, charts } = await consoleErrors(htmlReport(result));
		expect(errors).toEqual([]);
		expect(charts).toBeGreaterThanOrEqual(1); // the CONSORT diagram
	});
});
