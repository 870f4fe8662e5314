import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: {
		// Svelte 5 runes everywhere: no legacy reactive statements to migrate later.
		runes: true
	},
	kit: {
		adapter: adapter({ out: 'build' }),
		// Cross-origin form posts are refused (SvelteKit's default origin check, kept on).
		// SvelteKit adds nonces or hashes for its own inline scripts, so scripts need no
		// 'unsafe-inline'. Svelte may set style attributes, hence inline styles are allowed.
		csp: {
			mode: 'auto',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:'],
				'connect-src': ['self'],
				'frame-ancestors': ['none'],
				'base-uri': ['self'],
				'form-action': ['self'],
				'object-src': ['none']
			}
		}
	}
};

export default config;
