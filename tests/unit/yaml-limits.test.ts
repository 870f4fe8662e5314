import { describe, expect, it } from 'vitest';
import { parseStudyYaml } from '../../src/lib/server/protocols/study-file.ts';
import { flowDepth, MAX_YAML_BYTES, parseYaml } from '../../src/lib/server/validation/yaml.ts';

// Malformed or hostile protocol files are refused with the problem, before they can keep the
// server busy: every one of these is a plain list of problems, never an exception.
describe('YAML limits', () => {
	it('refuses deeply nested brackets without parsing them', () => {
		const result = parseYaml('['.repeat(400_000));
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.problems[0]!.message).toMatch(/nested 400000 deep/);
		expect(flowDepth('a: "[[[[" # [[[[\nb: [1, [2, {c: 3}]]')).toBe(3);
	});

	it('refuses a billion-laughs document as a problem, not an error', () => {
		const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
		for (let i = 1; i < 10; i++)
			lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
		const result = parseStudyYaml(lines.join('\n'));
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.problems[0]!.message).toMatch(/alias/i);
	});

	it('refuses a file larger than the limit', () => {
		const result = parseYaml(`a: "${'x'.repeat(MAX_YAML_BYTES)}"`);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.problems[0]!.message).toMatch(/at most 524288 are read/);
	});
});
