import type { z } from 'zod';

/** One thing wrong with an input, located by its path (and by its line, for files). */
export interface Problem {
	/** `arms[2].assistant.temperature`; empty for the document as a whole. */
	path: string;
	message: string;
	line?: number;
	/** The file the line is in, when an input spans several files. */
	file?: string;
	/** The path as keys (`['arms', 2, 'assistant']`), for locating it in a file or a form. */
	keys?: PropertyKey[];
}

export class ValidationError extends Error {
	constructor(
		readonly problems: Problem[],
		readonly source?: string
	) {
		super(
			`${source ? `${source}: ` : ''}${problems.length} problem(s):\n${formatProblems(problems)}`
		);
		this.name = 'ValidationError';
	}
}

export function formatPath(path: readonly PropertyKey[]): string {
	let out = '';
	for (const key of path) {
		if (typeof key === 'number') out += `[${key}]`;
		else out += out === '' ? String(key) : `.${String(key)}`;
	}
	return out;
}

/** `arms[2].assistant.temperature: must be ≤ 2 (line 41)`, one per line. */
export function formatProblems(problems: Problem[]): string {
	return problems
		.map((p) => {
			// keys are for machines; the sentence needs only the path
			const where = p.line ? ` (${p.file ? `${p.file}, ` : ''}line ${p.line})` : '';
			return `  ${p.path || '(document)'}: ${p.message}${where}`;
		})
		.join('\n');
}

/** Zod issues as plain sentences a researcher can act on, each with the path it concerns. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[]): Problem[] {
	const problems: Problem[] = [];
	for (const issue of issues) {
		if (issue.code === 'unrecognized_keys') {
			for (const key of issue.keys) {
				const keys = [...issue.path, key];
				problems.push({ path: formatPath(keys), message: 'unknown field', keys });
			}
			continue;
		}
		if (issue.code === 'invalid_union' && issue.errors.length > 0) {
			// Report the branch that got furthest rather than "invalid input".
			const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
			problems.push(...problemsFromZod(best));
			continue;
		}
		problems.push({
			path: formatPath(issue.path),
			message: messageFor(issue),
			keys: [...issue.path]
		});
	}
	return problems;
}

function messageFor(issue: z.core.$ZodIssue): string {
	switch (issue.code) {
		case 'invalid_type':
			return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
		case 'too_big':
			if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
			if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
			return `must be ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
		case 'too_small':
			if (issue.origin === 'string') {
				return issue.minimum === 1
					? 'must not be empty'
					: `must be at least ${issue.minimum} characters`;
			}
			if (issue.origin === 'array') {
				return issue.minimum === 1
					? 'must have at least one entry'
					: `must have at least ${issue.minimum} entries`;
			}
			return `must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
		case 'invalid_value':
			return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
		case 'invalid_format':
			return issue.message.startsWith('Invalid')
				? `must be a valid ${issue.format}`
				: issue.message;
		default:
			return issue.message;
	}
}

function article(expected: string): string {
	const noun = expected === 'int' ? 'whole number' : expected;
	return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
