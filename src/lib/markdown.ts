import MarkdownIt from 'markdown-it';

// Assistant replies are markdown written by a model we do not control, rendered on the server and
// in the browser. Safe by construction rather than by cleaning afterwards: raw HTML is escaped
// (html: false), images are not rendered at all (no remote requests from a participant's page),
// and links go through markdown-it's URL check (no javascript:, vbscript:, file: or data:) and
// open in a new tab without a referrer.

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image']);

const defaultLinkOpen =
	md.renderer.rules.link_open ??
	((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
	tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
	tokens[idx]!.attrSet('target', '_blank');
	return defaultLinkOpen(tokens, idx, options, env, self);
};

/** HTML for an assistant message; safe to insert with {@html}. */
export function renderMarkdown(source: string): string {
	return md.render(source);
}
