// Study texts come from YAML, where authors wrap long lines by hand. Shown as they are, those
// breaks end lines mid-sentence on a phone. A blank line starts a new paragraph; a line break
// inside a paragraph is a space, unless the next line is a list item ("- ", "* ", "1. "), which
// keeps its own line.
const LIST_ITEM = /^\s*(?:[-*•]\s|\d+[.)]\s)/;

/** The paragraphs of a study text, each with its hand-wrapped lines joined. */
export function paragraphs(text: string): string[] {
	return text
		.replace(/\r\n?/g, '\n')
		.split(/\n\s*\n/)
		.map((block) =>
			block
				.split('\n')
				.map((line) => line.trim())
				.filter((line) => line.length > 0)
				.reduce(
					(joined, line) =>
						joined === '' ? line : `${joined}${LIST_ITEM.test(line) ? '\n' : ' '}${line}`,
					''
				)
		)
		.filter((p) => p.length > 0);
}
