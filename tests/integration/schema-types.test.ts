import fs from 'node:fs';
import { inject, describe, expect, it } from 'vitest';
import { generateSchemaTypes, SCHEMA_FILE } from '../../src/cli/db-types.ts';

// schema.ts is what TypeScript believes the database holds; the migrations are what it holds.
describe.runIf(inject('pg'))('src/lib/server/db/schema.ts', () => {
	it('matches the types kysely-codegen derives from the migrations (run `npm run db:types`)', async () => {
		const pg = inject('pg')!;
		const generated = await generateSchemaTypes(pg.adminUrl);
		expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(generated);
	});
});
