import { z } from 'zod';
import { formatPath, problemsFromZod, type Problem } from '../validation/problems.ts';
import { parseYaml } from '../validation/yaml.ts';

// BenchmarkCards as in docs/benchmark-card.md: the authors' task/outcome field names,
// plus Bedside's optional additions (holds_at_deployment enum, evidence, further assumptions).

export const HOLDS = ['yes', 'partially', 'no', 'untested'] as const;
export type Holds = (typeof HOLDS)[number];

const evidence = z.strictObject({
	study: z.string().min(1),
	estimate: z.string().min(1),
	value: z.number().nullable().optional(),
	ci: z.tuple([z.number(), z.number()]).nullable().optional()
});

const assumption = z.strictObject({
	question: z.string().trim().min(1),
	answer: z.string().default(''),
	holds_at_deployment: z.union([z.string(), z.boolean()]).optional(),
	note: z.string().optional(),
	evidence: z.array(evidence).optional()
});

const assumptionKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a snake_case key');

export const benchmarkCard = z.strictObject({
	benchmark_name: z.string().trim().min(1),
	citation: z.string().trim().min(1),
	version: z.union([z.string(), z.number()]).transform(String).optional(),
	notes: z.string().optional(),
	intended_use_case: z.strictObject({
		answer: z.string().trim().min(1),
		deployment_context: z.string().optional()
	}),
	task: z.record(assumptionKey, assumption).default({}),
	outcome: z.record(assumptionKey, assumption).default({})
});

export type CardAssumption = {
	question: string;
	answer: string;
	holds_at_deployment: Holds;
	note?: string;
	evidence?: z.output<typeof evidence>[];
};

export type BenchmarkCard = Omit<z.output<typeof benchmarkCard>, 'task' | 'outcome'> & {
	task: Record<string, CardAssumption>;
	outcome: Record<string, CardAssumption>;
};

export type CardResult =
	| { ok: true; card: BenchmarkCard; warnings: Problem[] }
	| { ok: false; problems: Problem[]; warnings: Problem[] };

/**
 * Validates a card. Unknown fields and missing required ones are errors with their path.
 * A free-text holds_at_deployment (older cards) is kept as the assumption's note, read as
 * `untested`, and reported as a warning, never dropped.
 */
export function validateCard(
	value: unknown,
	lineOf?: (path: PropertyKey[]) => number | undefined
): CardResult {
	const parsed = benchmarkCard.safeParse(value);
	if (!parsed.success) {
		const problems = problemsFromZod(parsed.error.issues).map((p) => {
			const line = lineOf?.(p.keys ?? []);
			return line ? { ...p, line } : p;
		});
		return { ok: false, problems, warnings: [] };
	}
	const warnings: Problem[] = [];
	const normalize = (type: 'task' | 'outcome') =>
		Object.fromEntries(
			Object.entries(parsed.data[type]).map(([key, a]) => {
				const raw = a.holds_at_deployment;
				const text = typeof raw === 'boolean' ? (raw ? 'yes' : 'no') : (raw ?? 'untested').trim();
				const lower = text.toLowerCase();
				let holds: Holds = 'untested';
				let note = a.note;
				if ((HOLDS as readonly string[]).includes(lower)) {
					holds = lower as Holds;
				} else {
					const path = [type, key, 'holds_at_deployment'];
					warnings.push({
						path: formatPath(path),
						message: `"${text}" is not one of ${HOLDS.join(', ')}: kept as the note, read as untested`,
						line: lineOf?.(path)
					});
					note = note ? `${note}\n${text}` : text;
				}
				const out: CardAssumption = {
					question: a.question,
					answer: a.answer,
					holds_at_deployment: holds
				};
				if (note !== undefined) out.note = note;
				if (a.evidence !== undefined) out.evidence = a.evidence;
				return [key, out];
			})
		);
	const card: BenchmarkCard = {
		...parsed.data,
		task: normalize('task'),
		outcome: normalize('outcome')
	};
	return { ok: true, card, warnings };
}

export function parseCardYaml(text: string): CardResult {
	const parsed = parseYaml(text);
	if (!parsed.ok) return { ok: false, problems: parsed.problems, warnings: [] };
	return validateCard(parsed.yaml.value, (path) => parsed.yaml.lineOf(path));
}
