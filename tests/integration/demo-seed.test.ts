import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import {
	DEMO_CARD_SLUGS,
	DEMO_STUDY_SLUG,
	demoSourcesFromDisk,
	seedDemoStudyIfEmpty,
	withScriptedFallback
} from '../../src/lib/server/demo/demo-study.ts';
import { sha256OfJson } from '../../src/lib/server/protocols/hash.ts';
import { loadStudyFile } from '../../src/lib/server/protocols/study-file.ts';
import {
	databaseKinds,
	openTestDatabase,
	useTestDatabase,
	type TestDatabase
} from '../helpers/database.ts';

const sources = demoSourcesFromDisk();

describe('the demo without an LLM endpoint', () => {
	it('gives the LLM arm the scripted assistant, labelled, and keeps the others', () => {
		const file = loadStudyFile('studies/triage-demo/study.yaml');
		if (!file.ok) throw new Error('the example study must validate');
		const fallback = withScriptedFallback(file.protocol, []);
		const llm = fallback.arms.find((a) => a.id === 'assistant_llm')!;
		expect(llm.label).toMatch(/scripted, not an LLM \(no endpoint was configured\)/);
		expect(llm.assistant).toMatchObject({ provider: 'scripted', max_turns: 10 });
		expect(fallback.arms.map((a) => a.id)).toEqual(file.protocol.arms.map((a) => a.id));
		expect(withScriptedFallback(file.protocol, ['default'])).toEqual(file.protocol);
	});
});

describe.each(databaseKinds())('demo seeding (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('seeds an empty database once: the triage-demo draft, its cards, links and audit entries', async () => {
		expect(await seedDemoStudyIfEmpty(t.db, sources, ['default'])).toBe(true);
		expect(await seedDemoStudyIfEmpty(t.db, sources, ['default'])).toBe(false);

		const studies = await t.db.selectFrom('studies').select(['slug', 'status']).execute();
		expect(studies).toEqual([{ slug: DEMO_STUDY_SLUG, status: 'draft' }]);
		const file = loadStudyFile('studies/triage-demo/study.yaml');
		if (!file.ok) throw new Error('the example study must validate');
		const version = await t.db
			.selectFrom('protocol_versions')
			.selectAll()
			.executeTakeFirstOrThrow();
		expect(version.sha256).toBe(sha256OfJson(file.protocol));
		expect(sha256OfJson(version.protocol)).toBe(version.sha256); // stored JSON hashes the same
		// An endpoint was configured: the LLM arm stays an LLM.
		expect(JSON.stringify(version.protocol)).toContain('openai-compatible');

		const cards = await t.db.selectFrom('benchmark_cards').select('slug').orderBy('slug').execute();
		expect(cards.map((c) => c.slug)).toEqual([...DEMO_CARD_SLUGS].sort());
		const links = await t.db
			.selectFrom('study_assumptions')
			.innerJoin('assumptions', 'assumptions.id', 'study_assumptions.assumption_id')
			.select('assumptions.key')
			.orderBy('assumptions.key')
			.execute();
		expect(links.map((l) => l.key)).toEqual(['decision_mediation', 'interaction_type']);
		const audit = await t.db.selectFrom('audit_events').select('action').orderBy('id').execute();
		expect(audit.map((a) => a.action)).toEqual(['card.create', 'card.create', 'study.create']);
	});

	it.runIf(kind === 'pg')('seeds exactly once when several instances start together', async () => {
		const fresh = await openTestDatabase('pg');
		const instances = await Promise.all(
			[1, 2, 3].map(() => openDatabase({ kind: 'pg', url: fresh.url!, poolSize: 2 }))
		);
		try {
			const seeded = await Promise.all(instances.map((i) => seedDemoStudyIfEmpty(i.db, sources)));
			expect(seeded.filter(Boolean)).toHaveLength(1);
			const studies = await fresh.db.selectFrom('studies').select('slug').execute();
			expect(studies).toEqual([{ slug: DEMO_STUDY_SLUG }]);
		} finally {
			await Promise.all(instances.map((i) => i.close()));
			await fresh.close();
		}
	});
});
