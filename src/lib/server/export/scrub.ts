// Scrubbing obvious identifiers from free text before it leaves Bedside: email addresses, phone
// numbers and URLs become [email], [phone] and [url]. "Obvious" is the word: names, addresses and
// dates are not found this way, and the export report says so.

const PATTERNS = {
	email: /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu,
	url: /\b(?:https?:\/\/|www\.)[^\s<>"']+/giu,
	// Seven or more digits, allowing spaces, dots, dashes, brackets and a leading +.
	phone: /(?<![\p{L}\p{N}])\+?\(?\d[\d\s().-]{5,}\d(?![\p{L}\p{N}])/gu
} as const;

export type ScrubCounts = Record<keyof typeof PATTERNS, number>;

export function emptyCounts(): ScrubCounts {
	return { email: 0, url: 0, phone: 0 };
}

/** The text with identifiers replaced; `counts` is increased by what was replaced. */
export function scrub(text: string, counts: ScrubCounts): string {
	let out = text;
	for (const kind of ['email', 'url', 'phone'] as const) {
		out = out.replace(PATTERNS[kind], (match) => {
			// A phone pattern must hold at least seven digits (not a year range or a dose).
			if (kind === 'phone' && (match.match(/\d/g) ?? []).length < 7) return match;
			counts[kind]++;
			return `[${kind}]`;
		});
	}
	return out;
}
