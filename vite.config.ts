import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		include: ['tests/**/*.test.ts', 'src/**/*.test.ts', 'analysis/**/*.test.ts'],
		globalSetup: ['tests/helpers/global-setup.ts'],
		// Integration and browser tests start servers and databases; give them room, but keep
		// the suite deterministic: no test depends on wall-clock speed.
		testTimeout: 60_000,
		hookTimeout: 180_000,
		// Two cores: more workers only contend for the CPU that PGlite and Chromium need.
		maxWorkers: 2
	}
});
