import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } }
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	{
		rules: {
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			]
		}
	},
	{
		// analysis/ is a pure library: it must never reach into the app.
		files: ['analysis/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['**/src/**', '$lib', '$lib/*'], message: 'analysis/ never imports the app' }
					]
				}
			]
		}
	},
	{
		// Migrations are frozen in time: they must not change when app code changes.
		files: ['migrations/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['**/src/**', '$lib', '$lib/*'], message: 'migrations never import app code' }
					]
				}
			]
		}
	},
	{
		ignores: ['build/', '.svelte-kit/', '.data/', 'node_modules/', 'bench/results.json']
	}
);
