import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import {
	DEMO_STUDY_SLUG,
	demoProtocol,
	seedDemoStudyIfEmpty
} from '../../src/lib/server/demo/demo-study.ts';
import { sha256OfJson } from '../../src/lib/server/protocols/hash.ts';
import {
	databaseKinds,
	openTestDatabase,
	useTestDatabase,
	type TestDatabase
} from '../helpers/database.ts';

describe.each(databaseKinds())('demo study seeding (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('seeds an empty database once, with its protocol, arms, scenarios and an audit entry', async () => {
		expect(await seedDemoStudyIfEmpty(t.db)).toBe(true);
		expect(await seedDemoStudyIfEmpty(t.db)).toBe(false);

		const studies = await t.db.selectFrom('studies').selectAll().execute();
		expect(studies.map((s) => [s.slug, s.status])).toEqual([[DEMO_STUDY_SLUG, 'draft']]);
		const version = await t.db
			.selectFrom('protocol_versions')
			.selectAll()
			.executeTakeFirstOrThrow();
		expect(version.sha256).toBe(sha256OfJson(demoProtocol));
		expect(sha256OfJson(version.protocol)).toBe(version.sha256); // the stored JSON hashes the same
		const arms = await t.db.selectFrom('arms').select(['key', 'kind']).orderBy('key').execute();
		expect(arms).toEqual([
			{ key: 'control', kind: 'control' },
			{ key: 'scripted', kind: 'llm_assisted' }
		]);
		const scenarios = await t.db.selectFrom('scenarios').select('key').execute();
		expect(scenarios).toHaveLength(demoProtocol.scenarios.length);
		const audit = await t.db.selectFrom('audit_events').select(['action', 'actor_kind']).execute();
		expect(audit).toEqual([{ action: 'study.seed_demo', actor_kind: 'system' }]);
	});

	it.runIf(kind === 'pg')(
		'seeds exactly one study when several instances start together',
		async () => {
			const fresh = await openTestDatabase('pg');
			const instances = await Promise.all(
				[1, 2, 3].map(() => openDatabase({ kind: 'pg', url: fresh.url!, poolSize: 2 }))
			);
			try {
				const seeded = await Promise.all(instances.map((i) => seedDemoStudyIfEmpty(i.db)));
				expect(seeded.filter(Boolean)).toHaveLength(1);
				const studies = await fresh.db.selectFrom('studies').select('slug').execute();
				expect(studies).toEqual([{ slug: DEMO_STUDY_SLUG }]);
			} finally {
				await Promise.all(instances.map((i) => i.close()));
				await fresh.close();
			}
		}
	);
});
