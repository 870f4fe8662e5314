import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256OfJson } from '../../src/lib/server/protocols/hash.ts';
import {
	loadStudyFile,
	parseStudyYaml,
	protocolToYaml
} from '../../src/lib/server/protocols/study-file.ts';
import { formatProblems } from '../../src/lib/server/validation/problems.ts';

const EXAMPLES = ['studies/triage-demo/study.yaml', 'studies/proxy-validation/study.yaml'];

describe('study files', () => {
	it.each(EXAMPLES)('%s validates', (file) => {
		const result = loadStudyFile(file);
		expect(result.ok ? 'valid' : formatProblems(result.problems)).toBe('valid');
	});

	it('ships a triage demo with 3 arms (control + 2 assistants) and ≥ 8 scenarios, marked not validated', () => {
		const result = loadStudyFile(EXAMPLES[0]!);
		if (!result.ok) throw new Error('invalid');
		expect(result.protocol.arms.map((a) => a.kind)).toEqual([
			'control',
			'llm_assisted',
			'llm_assisted'
		]);
		expect(result.protocol.scenarios.length).toBeGreaterThanOrEqual(8);
		expect(result.protocol.clinically_validated).toBe(false);
		// Everyday to emergency: every level of the scale is someone's correct answer.
		const used = new Set(result.protocol.scenarios.map((s) => s.correct_disposition));
		expect(result.protocol.disposition_scale.every((d) => used.has(d.id))).toBe(true);
	});

	it.each(['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://x.example/'])(
		'refuses a completion_url that is not a web address: %s',
		(url) => {
			const text = fs
				.readFileSync(EXAMPLES[0]!, 'utf8')
				.replace('  completion_code: BEDSIDE-TRIAGE', `  completion_url: '${url}'`);
			const result = parseStudyYaml(text);
			expect(result.ok).toBe(false);
			if (!result.ok)
				expect(formatProblems(result.problems)).toMatch(
					/recruitment\.completion_url: must be an http:\/\/ or https:\/\/ address/
				);
		}
	);

	it('reads scenarios from a separate file when the study names one', () => {
		const result = loadStudyFile(EXAMPLES[1]!);
		if (!result.ok) throw new Error('invalid');
		expect(result.protocol.scenarios.map((s) => s.id)).toEqual([
			'hay-fever',
			'shingles',
			'stroke',
			'tension-headache'
		]);
		expect(
			result.protocol.outcomes.find((o) => o.kind === 'proxy' && o.role === 'primary')?.name
		).toBe('helpfulness');
	});

	it('reports every problem of a broken file with its path and line', () => {
		const result = loadStudyFile('tests/fixtures/studies/broken/study.yaml');
		if (result.ok) throw new Error('the broken file must not validate');
		const lines = formatProblems(result.problems)
			.split('\n')
			.map((l) => l.trim());
		expect(lines).toEqual(
			expect.arrayContaining([
				'slug: must be lowercase letters, digits and - (at most 63) (line 3)',
				'title: is required',
				'arms[2].assistant.colour: unknown field (line 26)',
				'arms[2].assistant.temperature: must be ≤ 2 (line 25)'
			])
		);
	});

	it('checks cross-references once the shapes are right', () => {
		const text = fs
			.readFileSync('tests/fixtures/studies/broken/study.yaml', 'utf8')
			.replace('slug: Broken Study', 'slug: broken-study\ntitle: "Broken"')
			.replace('temperature: 3\n      colour: blue', 'temperature: 1');
		const result = parseStudyYaml(text);
		if (result.ok) throw new Error('must not validate');
		expect(
			formatProblems(result.problems)
				.split('\n')
				.map((l) => l.trim())
		).toEqual([
			'arms[1]: arm id "control" is used twice (line 16)',
			'scenarios[0].correct_disposition: must be one of the disposition_scale ids (home, hospital) (line 32)',
			'arms[1].assistant: is required for a llm_assisted arm (line 16)',
			'randomization.block_sizes[0]: must be a multiple of the sum of arm weights (3) (line 39)'
		]);
	});

	it('reports YAML syntax errors with their line, and never half-parses', () => {
		const result = parseStudyYaml('format: bedside-study/1\ntitle: "unclosed\nslug: x\n');
		expect(result.ok).toBe(false);
		if (!result.ok)
			expect(result.problems[0]).toMatchObject({
				message: expect.stringMatching(/^YAML syntax/),
				line: expect.any(Number)
			});
		const dup = parseStudyYaml('slug: a\nslug: b\n');
		expect(dup.ok).toBe(false);
		if (!dup.ok) expect(dup.problems[0]).toMatchObject({ line: 2 });
	});

	it.each(EXAMPLES)(
		'%s round-trips: written back as YAML, it parses to an equal protocol',
		(file) => {
			const first = loadStudyFile(file);
			if (!first.ok) throw new Error('invalid');
			const again = parseStudyYaml(protocolToYaml(first.protocol));
			if (!again.ok) throw new Error(formatProblems(again.problems));
			expect(again.protocol).toEqual(first.protocol);
			expect(sha256OfJson(again.protocol)).toBe(sha256OfJson(first.protocol));
		}
	);

	it('hashes the same protocol the same, whatever its key order and layout', () => {
		const a = parseStudyYaml(fs.readFileSync(EXAMPLES[0]!, 'utf8'));
		if (!a.ok) throw new Error('invalid');
		// Same content as JSON with keys reversed at every level: a different text, the same protocol.
		const reverse = (v: unknown): unknown =>
			Array.isArray(v)
				? v.map(reverse)
				: v && typeof v === 'object'
					? Object.fromEntries(
							Object.entries(v)
								.reverse()
								.map(([k, x]) => [k, reverse(x)])
						)
					: v;
		const b = parseStudyYaml(JSON.stringify(reverse(a.protocol), null, 7));
		if (!b.ok) throw new Error('invalid');
		expect(sha256OfJson(b.protocol)).toBe(sha256OfJson(a.protocol));
	});
});
