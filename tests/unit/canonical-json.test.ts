import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256OfJson } from '../../src/lib/server/protocols/hash.ts';

describe('canonical JSON (RFC 8785)', () => {
	it('sorts keys and drops whitespace, so key order and formatting do not change the hash', () => {
		const a = JSON.parse('{"b": [1, {"y": 2, "x": 1}], "a": "é"}');
		const b = JSON.parse('{\n  "a":"é",\n  "b":[1,{"x":1,"y":2}]\n}');
		expect(canonicalJson(a)).toBe('{"a":"é","b":[1,{"x":1,"y":2}]}');
		expect(sha256OfJson(a)).toBe(sha256OfJson(b));
	});

	it('prints numbers as ECMAScript does (RFC 8785 §3.2.2.3)', () => {
		expect(canonicalJson({ n: [1.0, 1e21, 0.000001, -0] })).toBe('{"n":[1,1e+21,0.000001,0]}');
	});

	it('changes the hash when any value changes', () => {
		expect(sha256OfJson({ temperature: 0.7 })).not.toBe(sha256OfJson({ temperature: 0.70001 }));
	});

	it('matches a SHA-256 computed independently', () => {
		// printf '%s' '{"a":1}' | sha256sum
		expect(sha256OfJson({ a: 1 })).toBe(
			'015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862'
		);
	});
});
