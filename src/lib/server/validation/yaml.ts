import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { Problem } from './problems.ts';

export interface ParsedYaml {
	value: unknown;
	/** The line a path points at (or its nearest parent that exists), for error messages. */
	lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** A study file is a few tens of kB; anything far larger is a mistake or an attack. */
export const MAX_YAML_BYTES = 512 * 1024;
/** Deeper than any protocol needs; the parser's time grows badly with bracket depth. */
export const MAX_YAML_DEPTH = 64;

/**
 * The deepest nesting of flow collections ([ and {) outside quoted strings and comments: checked
 * before parsing, because a document of 400,000 `[` kept the parser (and the event loop) busy for
 * seconds.
 */
export function flowDepth(text: string): number {
	let depth = 0;
	let deepest = 0;
	let quote: string | null = null;
	for (let i = 0; i < text.length; i++) {
		const c = text[i]!;
		if (quote) {
			if (c === quote && text[i - 1] !== '\\') quote = null;
			else if (c === '\n' && quote === "'") quote = null;
			continue;
		}
		if (c === '"' || c === "'") quote = c;
		else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
			const end = text.indexOf('\n', i);
			i = end === -1 ? text.length : end;
		} else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
		else if ((c === ']' || c === '}') && depth > 0) depth--;
	}
	return deepest;
}

/**
 * Parses YAML strictly (duplicate keys are errors) and keeps positions, so a schema error can
 * say which line it is on. Syntax errors come back as problems, never as a half-parsed value; so
 * do documents too large, too deeply nested, or with too many aliases (a "billion laughs").
 */
export function parseYaml(
	text: string
): { ok: true; yaml: ParsedYaml } | { ok: false; problems: Problem[] } {
	const bytes = Buffer.byteLength(text, 'utf8');
	if (bytes > MAX_YAML_BYTES)
		return refuse(`the file has ${bytes} bytes; at most ${MAX_YAML_BYTES} are read`);
	const depth = flowDepth(text);
	if (depth > MAX_YAML_DEPTH)
		return refuse(`brackets nested ${depth} deep; at most ${MAX_YAML_DEPTH} levels are read`);
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
	let value: unknown;
	try {
		value = doc.toJS({ maxAliasCount: 100 });
	} catch (e) {
		// The yaml package refuses alias expansion past maxAliasCount (resource exhaustion).
		return refuse(`the document cannot be read: ${(e as Error).message}`);
	}
	return { ok: true, yaml: { value, lineOf: (path) => lineOf(doc, lineCounter, path) } };
}

function refuse(message: string): { ok: false; problems: Problem[] } {
	return { ok: false, problems: [{ path: '', message: `YAML: ${message}` }] };
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
