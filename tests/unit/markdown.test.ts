import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/lib/markdown.ts';

describe('rendering assistant markdown', () => {
	it('renders ordinary formatting', () => {
		const html = renderMarkdown(
			'**Call 999** now.\n\n- rest\n- fluids\n\nSee [NHS](https://www.nhs.uk)'
		);
		expect(html).toContain('<strong>Call 999</strong>');
		expect(html).toContain('<li>rest</li>');
		expect(html).toContain(
			'<a href="https://www.nhs.uk" rel="noopener noreferrer nofollow" target="_blank">NHS</a>'
		);
	});

	it.each([
		['a script tag', '<script>alert(1)</script>'],
		['an image with onerror', '<img src=x onerror="alert(1)">'],
		['an iframe', '<iframe src="https://evil.example"></iframe>'],
		['inline event handler', '<a href="#" onclick="alert(1)">x</a>']
	])('escapes raw HTML: %s', (_name, source) => {
		const html = renderMarkdown(source);
		expect(html).not.toMatch(/<(script|img|iframe)/i);
		expect(html).not.toMatch(/<[^>]+\son\w+=/i); // no live event handler attribute
		expect(html).toContain('&lt;');
	});

	it('refuses javascript: and data: links and renders no images', () => {
		expect(renderMarkdown('[click](javascript:alert(1))')).not.toContain('<a');
		expect(renderMarkdown('[x](data:text/html;base64,PHNjcmlwdD4=)')).not.toContain('<a');
		const image = renderMarkdown('![tracker](https://evil.example/pixel.png)');
		expect(image).not.toContain('<img');
	});
});
