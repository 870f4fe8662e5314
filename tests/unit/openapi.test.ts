import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENAPI } from '../../src/lib/server/api/openapi.ts';

// The OpenAPI description and the routes under src/routes/api/v1 say the same: every route's
// methods are described, and every described path and method is a route.

const ROOT = 'src/routes';

function routeFiles(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
		const full = path.join(dir, e.name);
		return e.isDirectory() ? routeFiles(full) : e.name === '+server.ts' ? [full] : [];
	});
}

function routes(): string[] {
	return routeFiles(path.join(ROOT, 'api/v1')).flatMap((file) => {
		const url = `/${path.relative(ROOT, path.dirname(file))}`.replace(/\[(\w+)\]/g, '{$1}');
		const source = fs.readFileSync(file, 'utf8');
		return [...source.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\b/g)].map(
			(m) => `${m[1]} ${url}`
		);
	});
}

describe('the OpenAPI description', () => {
	it('is OpenAPI 3.1 and describes exactly the API routes', () => {
		expect(OPENAPI.openapi).toMatch(/^3\.1\./);
		const described = Object.entries(OPENAPI.paths).flatMap(([p, ops]) =>
			Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)
		);
		expect(routes().sort()).toEqual(described.sort());
	});

	it('gives every operation an id, a summary and its answers; every reference resolves', () => {
		const schemas = OPENAPI.components.schemas as Record<string, unknown>;
		const text = JSON.stringify(OPENAPI);
		for (const [, name] of text.matchAll(/"#\/components\/schemas\/(\w+)"/g))
			expect(schemas, name).toHaveProperty(name!);
		for (const ops of Object.values(OPENAPI.paths))
			for (const op of Object.values(ops) as {
				operationId: string;
				summary: string;
				responses: object;
			}[]) {
				expect(op.operationId).toBeTruthy();
				expect(op.summary).toBeTruthy();
				expect(Object.keys(op.responses).length).toBeGreaterThan(0);
			}
	});
});
