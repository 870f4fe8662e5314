import fs from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseCardYaml } from '../../src/lib/server/cards/card-schema.ts';
import { cardToYaml } from '../../src/lib/server/cards/cards.service.ts';
import { formatProblems } from '../../src/lib/server/validation/problems.ts';

const CARDS = [
	'studies/cards/bean-triage-scenarios.yaml',
	'studies/cards/medical-licensing-exam.yaml'
];

describe('BenchmarkCards', () => {
	it.each(CARDS)('%s validates with the five assumptions of the paper, and round-trips', (file) => {
		const text = fs.readFileSync(file, 'utf8');
		const result = parseCardYaml(text);
		if (!result.ok) throw new Error(formatProblems(result.problems));
		expect(result.warnings).toEqual([]);
		expect(Object.keys(result.card.task)).toEqual([
			'query_authorship',
			'information_completeness',
			'interaction_type'
		]);
		expect(Object.keys(result.card.outcome)).toEqual(['decision_mediation', 'outcome_validity']);
		const again = parseCardYaml(cardToYaml(result.card));
		if (!again.ok) throw new Error('round trip failed');
		expect(again.card).toEqual(result.card);
		// Every field of the file survives: nothing is silently dropped.
		expect(parse(cardToYaml(result.card))).toEqual(parse(text));
	});

	it('rejects unknown fields and missing required ones, each with its path and line', () => {
		const result = parseCardYaml(
			[
				'benchmark_name: "X"',
				'intended_use_case:',
				'  answer: "triage"',
				'outcome:',
				'  decision_mediation:',
				'    question: "Does the benchmark treat LLM output as the final decision?"',
				'    holds: "no"'
			].join('\n')
		);
		if (result.ok) throw new Error('must not validate');
		expect(
			formatProblems(result.problems)
				.split('\n')
				.map((l) => l.trim())
		).toEqual([
			'citation: is required',
			'outcome.decision_mediation.holds: unknown field (line 7)'
		]);
	});

	it('reports a bad enum value with its path', () => {
		const result = parseCardYaml(
			'benchmark_name: X\ncitation: Y\nintended_use_case: { answer: Z }\ntask:\n  query_authorship: { question: Q, evidence: [{ study: s, estimate: e, ci: [1] }] }\n'
		);
		if (result.ok) throw new Error('must not validate');
		expect(result.problems[0]?.path).toMatch(/^task\.query_authorship\.evidence\[0\]\.ci/);
	});

	it('keeps free-text holds_at_deployment from older cards as a note, reads it as untested, and says so', () => {
		const result = parseCardYaml(
			'benchmark_name: X\ncitation: Y\nintended_use_case: { answer: Z }\ntask:\n  query_authorship:\n    question: Q\n    holds_at_deployment: "Partially. Boards are expert, queries differ."\n'
		);
		if (!result.ok) throw new Error('must validate');
		expect(result.card.task.query_authorship).toEqual({
			question: 'Q',
			answer: '',
			holds_at_deployment: 'untested',
			note: 'Partially. Boards are expert, queries differ.'
		});
		expect(result.warnings).toEqual([
			{
				path: 'task.query_authorship.holds_at_deployment',
				message:
					'"Partially. Boards are expert, queries differ." is not one of yes, partially, no, untested: kept as the note, read as untested',
				line: 7
			}
		]);
	});
});
