import { describe, expect, it } from 'vitest';
import { paragraphs } from '../../src/lib/paragraphs.ts';

describe('paragraphs of a study text', () => {
	it('joins hand-wrapped lines, splits on blank lines, keeps list items on their own lines', () => {
		const text =
			'You are invited to take part in a study\nabout health decisions.\n\nWe will ask you:\n- to read a situation\n- to decide what\n  you would do\n\n\nThank you.\n';
		expect(paragraphs(text)).toEqual([
			'You are invited to take part in a study about health decisions.',
			'We will ask you:\n- to read a situation\n- to decide what you would do',
			'Thank you.'
		]);
	});

	it('reads Windows line ends and ignores empty input', () => {
		expect(paragraphs('a\r\nb\r\n\r\nc')).toEqual(['a b', 'c']);
		expect(paragraphs('  \n \n')).toEqual([]);
	});
});
