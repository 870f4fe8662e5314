import { formatPath } from '../validation/problems.ts';

export interface Change {
	path: string;
	kind: 'added' | 'removed' | 'changed';
	before?: unknown;
	after?: unknown;
}

/**
 * What changed between two JSON values, leaf by leaf (`arms[1].assistant.temperature: 0.7 → 0.5`).
 * Arrays compare by position: a protocol's lists are ordered, and their order is meaningful.
 */
export function diffJson(before: unknown, after: unknown, path: PropertyKey[] = []): Change[] {
	if (Object.is(before, after)) return [];
	const bothArrays = Array.isArray(before) && Array.isArray(after);
	const bothObjects = isPlainObject(before) && isPlainObject(after);
	if (!bothArrays && !bothObjects) {
		return [{ path: formatPath(path), kind: 'changed', before, after }];
	}
	const changes: Change[] = [];
	const keys = bothArrays
		? [...Array(Math.max((before as unknown[]).length, (after as unknown[]).length)).keys()]
		: [...new Set([...Object.keys(before as object), ...Object.keys(after as object)])];
	for (const key of keys) {
		const b = (before as Record<PropertyKey, unknown>)[key];
		const a = (after as Record<PropertyKey, unknown>)[key];
		const has = (o: unknown) =>
			bothArrays ? (key as number) < (o as unknown[]).length : Object.hasOwn(o as object, key);
		if (!has(before)) changes.push({ path: formatPath([...path, key]), kind: 'added', after: a });
		else if (!has(after))
			changes.push({ path: formatPath([...path, key]), kind: 'removed', before: b });
		else changes.push(...diffJson(b, a, [...path, key]));
	}
	return changes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One line per change, for the CLI and the version history. */
export function describeChanges(changes: Change[]): string[] {
	const show = (v: unknown) => {
		const text = JSON.stringify(v);
		return text.length > 60 ? `${text.slice(0, 57)}…` : text;
	};
	return changes.map((c) =>
		c.kind === 'added'
			? `+ ${c.path}: ${show(c.after)}`
			: c.kind === 'removed'
				? `- ${c.path}: ${show(c.before)}`
				: `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`
	);
}
