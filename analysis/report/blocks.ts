// The report as a list of blocks (headings, paragraphs, tables, charts), built once from the
// analysis JSON and rendered twice (Markdown and HTML), so both say the same in the same order.

export type Block =
	| { kind: 'heading'; level: 1 | 2 | 3; text: string }
	| { kind: 'paragraph'; text: string }
	| { kind: 'list'; items: string[] }
	| { kind: 'table'; header: string[]; rows: unknown[][] }
	| { kind: 'chart'; title: string; svg: string };

/** Collects the blocks of one section. */
export class Blocks {
	readonly out: Block[] = [];
	heading(level: 1 | 2 | 3, text: string) {
		this.out.push({ kind: 'heading', level, text });
	}
	paragraph(text: string) {
		this.out.push({ kind: 'paragraph', text });
	}
	list(items: string[]) {
		this.out.push({ kind: 'list', items });
	}
	table(header: string[], rows: unknown[][]) {
		this.out.push({ kind: 'table', header, rows });
	}
	chart(title: string, svg: string) {
		this.out.push({ kind: 'chart', title, svg });
	}
}
