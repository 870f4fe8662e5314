import { describe, expect, it } from 'vitest';
import { csvLine, list } from '../../src/lib/server/export/csv.ts';
import { emptyCounts, scrub } from '../../src/lib/server/export/scrub.ts';

describe('CSV lines', () => {
	it('quotes what needs quoting and doubles quotes (RFC 4180)', () => {
		expect(csvLine(['a', 1, null, undefined, 'b,c', 'say "hi"', 'two\nlines'])).toBe(
			'a,1,,,"b,c","say ""hi""","two\nlines"\n'
		);
		expect(list(['x', 'y;z'])).toBe('x;y,z');
	});
});

describe('scrubbing identifiers', () => {
	it.each([
		['mail me at jane.doe+nhs@example.co.uk please', 'mail me at [email] please', 'email'],
		['call 07700 900123 or +44 (0)20 7946 0958', 'call [phone] or [phone]', 'phone'],
		['see https://example.org/x?y=1 and www.nhs.uk', 'see [url] and [url]', 'url']
	])('%j', (text, expected, kind) => {
		const counts = emptyCounts();
		expect(scrub(text, counts)).toBe(expected);
		expect(counts[kind as keyof typeof counts]).toBeGreaterThan(0);
	});

	it('leaves doses, years, temperatures and short numbers alone', () => {
		const counts = emptyCounts();
		const text = 'I took 500 mg at 10:30 in 2024; my temperature is 38.5 and I am 62.';
		expect(scrub(text, counts)).toBe(text);
		expect(counts).toEqual({ email: 0, url: 0, phone: 0 });
	});
});
