import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { Problem } from './problems.ts';

export interface ParsedYaml {
	value: unknown;
	/** The line a path points at (or its nearest parent that exists), for error messages. */
	lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Parses YAML strictly (duplicate keys are errors) and keeps positions, so a schema error can
 * say which line it is on. Syntax errors come back as problems, never as a half-parsed value.
 */
export function parseYaml(
	text: string
): { ok: true; yaml: ParsedYaml } | { ok: false; problems: Problem[] } {
	const lineCounter = new LineCounter();
	const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
	if (doc.errors.length > 0) {
		return {
			ok: false,
			problems: doc.errors.map((e) => ({
				path: '',
				message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
				line: e.linePos?.[0]?.line
			}))
		};
	}
	return {
		ok: true,
		yaml: {
			value: doc.toJS({ maxAliasCount: 100 }),
			lineOf: (path) => lineOf(doc, lineCounter, path)
		}
	};
}

function lineOf(
	doc: Document,
	lines: LineCounter,
	path: readonly PropertyKey[]
): number | undefined {
	// Down to the nearest parent that exists, but not the document itself: a missing top-level
	// field has no line worth naming.
	for (let depth = path.length; depth >= 1; depth--) {
		const node = doc.getIn(path.slice(0, depth) as unknown[], true);
		if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
	}
	return undefined;
}
