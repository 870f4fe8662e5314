import { escapeXml } from '../charts.ts';
import type { Block } from './blocks.ts';

// The report's blocks as Markdown and as one self-contained HTML file (inline CSS and SVG, no
// script, nothing fetched).

/** Table cells never break a Markdown table, whatever a label holds. */
const mdCell = (s: unknown) =>
	String(s ?? '—')
		.replace(/\|/g, '\\|')
		.replace(/\n/g, ' ');

export function renderMarkdown(blocks: readonly Block[]): string {
	const out = blocks.map((b): string => {
		switch (b.kind) {
			case 'heading':
				return `${'#'.repeat(b.level)} ${b.text}`;
			case 'paragraph':
				return b.text;
			case 'list':
				return b.items.map((i) => `- ${i}`).join('\n');
			case 'table':
				return [
					`| ${b.header.map(mdCell).join(' | ')} |`,
					`|${b.header.map(() => '---').join('|')}|`,
					...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)
				].join('\n');
			case 'chart':
				return `*Chart: ${b.title} (in the HTML report).*`;
		}
	});
	return `${out.join('\n\n')}\n`;
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #1f2933; } h3 { margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #cbd2d9; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
figure { margin: 1rem 0; overflow-x: auto; } figcaption { color: #52606d; font-size: 13px; }
svg { max-width: 100%; height: auto; }
@media print { h2, h3 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

function htmlBlock(b: Block): string {
	switch (b.kind) {
		case 'heading':
			return `<h${b.level}>${escapeXml(b.text)}</h${b.level}>`;
		case 'paragraph':
			return `<p>${escapeXml(b.text)}</p>`;
		case 'list':
			return `<ul>${b.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ul>`;
		case 'table':
			return [
				'<table>',
				`<thead><tr>${b.header.map((c) => `<th scope="col">${escapeXml(c)}</th>`).join('')}</tr></thead>`,
				'<tbody>',
				...b.rows.map(
					(r) => `<tr>${r.map((c) => `<td>${escapeXml(c ?? '—')}</td>`).join('')}</tr>`
				),
				'</tbody></table>'
			].join('\n');
		case 'chart':
			return `<figure>${b.svg}<figcaption>${escapeXml(b.title)}</figcaption></figure>`;
	}
}

export function renderHtml(blocks: readonly Block[], title: string): string {
	return [
		'<!doctype html>',
		'<html lang="en">',
		'<head>',
		'<meta charset="utf-8">',
		'<meta name="viewport" content="width=device-width, initial-scale=1">',
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
		`<title>${escapeXml(`${title}: analysis`)}</title>`,
		`<style>${STYLE}</style>`,
		'</head>',
		'<body>',
		...blocks.map(htmlBlock),
		'</body>',
		'</html>',
		''
	].join('\n');
}
