// The rule coder: fuzzy matching of condition names (and their synonyms) and of disposition
// phrases in free text, by normalized edit-distance similarity. Used for what the assistant
// recommended and for the conditions participants typed. Pure and deterministic.
//
// Similarity of two strings = 1 − Levenshtein distance / length of the longer (a published study
// coded with 80%). A phrase matches when some run of words in the text (as many words as the
// phrase, give or take one) is at least that similar, with or without the spaces. Phrases of at
// most four letters (PE, MI, A&E, cold) must match exactly: one edit in four letters is already a
// different word ("cold" and "could" are 80% similar).

export const DEFAULT_SIMILARITY = 0.8;
const EXACT_UP_TO = 4;
/** How many words before a mention are searched for a negation. */
const NEGATION_REACH = 6;

export interface ConditionDef {
	id: string;
	name: string;
	synonyms: string[];
}

export interface DispositionDef {
	id: string;
	label: string;
	phrases?: string[];
}

/** Lower case, accents removed, anything not a letter or digit a space. */
export function normalize(text: string): string {
	return text
		.normalize('NFKD')
		.replace(/\p{M}/gu, '')
		.toLowerCase()
		.replace(/[^\p{L}\p{N}]+/gu, ' ')
		.trim();
}

export function levenshtein(a: string, b: string): number {
	if (a === b) return 0;
	if (a.length === 0) return b.length;
	if (b.length === 0) return a.length;
	let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
		}
		previous = current;
	}
	return previous[b.length]!;
}

export function similarity(a: string, b: string): number {
	const longest = Math.max(a.length, b.length);
	return longest === 0 ? 1 : 1 - levenshtein(a, b) / longest;
}

/** Where a phrase occurs in a text's words: the index of the first word of the best match. */
export function findPhrase(
	words: readonly string[],
	phrase: string,
	threshold: number
): number | null {
	const target = normalize(phrase);
	if (target.length === 0) return null;
	const size = target.split(' ').length;
	const compact = target.replaceAll(' ', '');
	const exact = compact.length <= EXACT_UP_TO;
	for (let start = 0; start < words.length; start++) {
		for (const n of [size, size - 1, size + 1]) {
			if (n < 1 || start + n > words.length) continue;
			const run = words.slice(start, start + n);
			const spaced = run.join(' ');
			const joined = run.join('');
			if (exact) {
				if (spaced === target || (joined === compact && n > 1 && run.every((w) => w.length === 1)))
					return start;
			} else if (
				similarity(spaced, target) >= threshold ||
				similarity(joined, compact) >= threshold
			) {
				return start;
			}
		}
	}
	return null;
}

/** The condition ids named in the texts (each text is searched for every name and synonym). */
export function codeConditions(
	texts: readonly string[],
	conditions: readonly ConditionDef[],
	threshold = DEFAULT_SIMILARITY
): string[] {
	const found: { id: string; at: number }[] = [];
	texts.forEach((text, t) => {
		const words = normalize(text).split(' ').filter(Boolean);
		for (const c of conditions) {
			const positions = [c.name, ...c.synonyms]
				.map((p) => findPhrase(words, p, threshold))
				.filter((p): p is number => p !== null);
			if (positions.length > 0) found.push({ id: c.id, at: t * 1e6 + Math.min(...positions) });
		}
	});
	const ordered = found.sort((a, b) => a.at - b.at).map((f) => f.id);
	return [...new Set(ordered)];
}

export interface DispositionMention {
	id: string;
	/** Word index in the text. */
	at: number;
	/** Negated ("no need to call an ambulance") or conditional ("if it gets worse, go to A&E"). */
	qualified: boolean;
}

const NEGATIONS = new Set(['not', 'no', 'dont', 'don', 'never', 'without', 'unnecessary', 'needn']);

/** Each disposition level mentioned in the text, by sentence, marked when negated or conditional. */
export function dispositionMentions(
	text: string,
	scale: readonly DispositionDef[],
	threshold = DEFAULT_SIMILARITY
): DispositionMention[] {
	const mentions: DispositionMention[] = [];
	let offset = 0;
	for (const sentence of text.split(/(?<=[.!?;:\n])\s+|\n+/)) {
		const words = normalize(sentence).split(' ').filter(Boolean);
		for (const level of scale) {
			for (const phrase of [level.label, ...(level.phrases ?? [])]) {
				const at = findPhrase(words, phrase, threshold);
				if (at === null) continue;
				const before = words.slice(Math.max(0, at - NEGATION_REACH), at);
				const qualified =
					before.some((w) => NEGATIONS.has(w)) ||
					words.slice(0, at).some((w) => w === 'if' || w === 'unless');
				mentions.push({ id: level.id, at: offset + at, qualified });
			}
		}
		offset += words.length;
	}
	return mentions.sort((a, b) => a.at - b.at);
}

/**
 * The disposition a text recommends: the first level mentioned without a negation or a condition;
 * failing that, the first mentioned at all; null when none is.
 */
export function codeDisposition(
	text: string,
	scale: readonly DispositionDef[],
	threshold = DEFAULT_SIMILARITY
): { disposition: string | null; mentions: DispositionMention[] } {
	const mentions = dispositionMentions(text, scale, threshold);
	const chosen = mentions.find((m) => !m.qualified) ?? mentions[0];
	return { disposition: chosen?.id ?? null, mentions };
}
