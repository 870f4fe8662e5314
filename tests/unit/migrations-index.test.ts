import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';

describe('migrations/index.ts', () => {
	const files = fs
		.readdirSync(path.resolve('migrations'))
		.filter((f) => /^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+\.ts$/.test(f))
		.map((f) => f.replace(/\.ts$/, ''));

	it('lists every migration file, by its file name, in order', () => {
		expect(files.length).toBeGreaterThan(0);
		expect(Object.keys(migrations)).toEqual([...files].sort());
	});

	it('holds nothing but date-prefixed migrations', () => {
		const others = fs
			.readdirSync(path.resolve('migrations'))
			.filter((f) => f !== 'index.ts' && !files.includes(f.replace(/\.ts$/, '')));
		expect(others).toEqual([]);
	});

	it('gives every migration an up and a down', () => {
		for (const [name, migration] of Object.entries(migrations)) {
			expect(typeof migration.up, name).toBe('function');
			expect(typeof migration.down, name).toBe('function');
		}
	});
});
