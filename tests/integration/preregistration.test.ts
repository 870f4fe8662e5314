import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { designPower } from '../../analysis/stats/design-power.ts';
import { designPowerOf } from '../../src/lib/server/prereg/design-power.ts';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { parseCardYaml } from '../../src/lib/server/cards/card-schema.ts';
import { exportCard, importCard } from '../../src/lib/server/cards/cards.service.ts';
import { canonicalJson, sha256Hex, sha256OfJson } from '../../src/lib/server/protocols/hash.ts';
import {
	answerKeyCommitment,
	answerKeyOf,
	answerKeySalt
} from '../../src/lib/server/prereg/answer-key.ts';
import { preregistrationMarkdown } from '../../src/lib/server/prereg/prereg-markdown.ts';
import { loadStudyFile } from '../../src/lib/server/protocols/study-file.ts';
import type { StudyProtocol } from '../../src/lib/server/protocols/study-schema.ts';
import {
	amend,
	changeStatus,
	preregister,
	preregistrationDocument,
	preregistrationPayload,
	RunningConfigError,
	verifyRunningConfig
} from '../../src/lib/server/prereg/prereg.service.ts';
import {
	getProtocol,
	saveProtocolDraft,
	StudyStateError
} from '../../src/lib/server/studies/studies.service.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import fs from 'node:fs';

function example(file = 'studies/triage-demo/study.yaml'): StudyProtocol {
	const result = loadStudyFile(file);
	if (!result.ok) throw new Error(`${file} does not validate`);
	return result.protocol;
}

async function importCards(t: TestDatabase) {
	for (const slug of ['bean-triage-scenarios', 'medical-licensing-exam']) {
		const parsed = parseCardYaml(fs.readFileSync(`studies/cards/${slug}.yaml`, 'utf8'));
		if (!parsed.ok) throw new Error('card invalid');
		await importCard(t.db, slug, parsed.card, CLI_ACTOR);
	}
}

/** A copy of the example under another slug, so each test has a study of its own. */
function fresh(slug: string, file?: string): StudyProtocol {
	return { ...example(file), slug };
}

describe.each(databaseKinds())('protocols and preregistration (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(async () => {
		t = database();
		if (!(await t.db.selectFrom('benchmark_cards').select('id').executeTakeFirst()))
			await importCards(t);
	});

	it('imports both example studies; re-importing the same content changes nothing', async () => {
		for (const file of ['studies/triage-demo/study.yaml', 'studies/proxy-validation/study.yaml']) {
			const protocol = example(file);
			const first = await saveProtocolDraft(t.db, protocol, CLI_ACTOR);
			expect(first.outcome).toBe('created');
			expect(first.version.sha256).toBe(sha256OfJson(protocol));
			const again = await saveProtocolDraft(t.db, protocol, CLI_ACTOR);
			expect(again).toMatchObject({ outcome: 'unchanged', version: { version: 1 } });
			const exported = await getProtocol(t.db, protocol.slug);
			expect(exported.protocol).toEqual(protocol); // round-trip through the database
		}
	});

	it('makes a changed file a new draft version, hash-linked to the previous, with its diff', async () => {
		const v1 = fresh('diff-study');
		await saveProtocolDraft(t.db, v1, CLI_ACTOR);
		const v2 = structuredClone(v1);
		(v2.arms[1]!.assistant as { temperature: number }).temperature = 0.2;
		const saved = await saveProtocolDraft(t.db, v2, CLI_ACTOR);
		expect(saved.outcome).toBe('new_version');
		expect(saved.version.version).toBe(2);
		expect(saved.version.previousSha256).toBe(sha256OfJson(v1));
		expect(saved.changes).toEqual([
			{ path: 'arms[1].assistant.temperature', kind: 'changed', before: 0.7, after: 0.2 }
		]);
	});

	it('refuses a study that tests an assumption no card has', async () => {
		const p = fresh('no-card');
		p.tests_assumptions = [{ card: 'bean-triage-scenarios', assumption: 'telepathy' }];
		const error = await saveProtocolDraft(t.db, p, CLI_ACTOR).catch((e) => e);
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.problems[0].path).toBe('tests_assumptions[0]');
		expect(
			await t.db.selectFrom('studies').select('id').where('slug', '=', 'no-card').execute()
		).toEqual([]);
	});

	it('preregisters: locks the version, commits to the seed, and the study runs only as registered', async () => {
		const p = fresh('prereg-study');
		await saveProtocolDraft(t.db, p, CLI_ACTOR);
		const record = await preregister(t.db, 'prereg-study', CLI_ACTOR, {
			seed: 'seed-for-tests-123'
		});
		expect(record.protocolSha256).toBe(sha256OfJson(p));
		expect(record.seedSha256).toBe(sha256Hex('seed-for-tests-123'));
		const study = await t.db
			.selectFrom('studies')
			.selectAll()
			.where('slug', '=', 'prereg-study')
			.executeTakeFirstOrThrow();
		expect(study.status).toBe('preregistered');
		expect(study.revealed_seed).toBeNull();

		// A draft save is refused now; the version is locked in the database too.
		const change = structuredClone(p);
		change.title = 'Changed after preregistration';
		await expect(saveProtocolDraft(t.db, change, CLI_ACTOR)).rejects.toThrow(
			/protocol is locked; change it with an amendment/
		);
		const direct =
			await sql`update protocol_versions set locked_at = null where study_id = ${study.id}`
				.execute(t.db)
				.catch((e) => e);
		expect(direct.code).toBe('BS001');

		const runnable = await verifyRunningConfig(t.db, 'prereg-study');
		expect(runnable.protocol).toEqual(p);
		// The design's power was computed with the plan's seed and kept with the registration (and
		// its hash, which the running configuration has just checked again).
		expect(record.designPower).toEqual(designPowerOf(p));
		const analytic = designPower(
			{
				participantsControl: record.designPower!.participants_control,
				ratio:
					record.designPower!.participants_treatment / record.designPower!.participants_control,
				episodesPerParticipant: p.episodes_per_participant,
				icc: p.sample_size.power!.icc ?? 0,
				scenarios: [
					{
						weight: 1,
						control: p.sample_size.power!.p_control,
						treatment: p.sample_size.power!.p_treatment
					}
				],
				alpha: p.sample_size.power!.alpha
			},
			0
		).analytic.power;
		expect(record.designPower!.analytic_power).toBeCloseTo(analytic, 6);
		expect(record.designPower!.design_effect).toBeCloseTo(
			1 + (p.episodes_per_participant - 1) * 0.2,
			6
		);
		expect(preregistrationMarkdown(await preregistrationDocument(t.db, 'prereg-study'))).toMatch(
			/## Power of the design\n\n- \d+ participants in control .* expected ICC 0\.2/
		);
		expect(await changeStatus(t.db, 'prereg-study', 'launch', CLI_ACTOR)).toBe('recruiting');

		// Closing reveals the seed, which matches the commitment anyone can read.
		expect(await changeStatus(t.db, 'prereg-study', 'close', CLI_ACTOR)).toBe('closed');
		const doc = await preregistrationDocument(t.db, 'prereg-study');
		expect(doc.randomization_seed).toBe('seed-for-tests-123');
		expect(sha256Hex(doc.randomization_seed!)).toBe(doc.registrations[0]!.seed_sha256);
		// …and a closed study stays closed, in the database itself.
		const reopen = await sql`update studies set status = 'recruiting' where id = ${study.id}`
			.execute(t.db)
			.catch((e) => e);
		expect(reopen.message).toBe(
			'UPDATE on studies refused: status cannot go from closed to recruiting'
		);
	});

	it('refuses to run a study whose running configuration differs from its preregistration', async () => {
		await saveProtocolDraft(t.db, fresh('tampered'), CLI_ACTOR);
		await preregister(t.db, 'tampered', CLI_ACTOR);
		const study = await t.db
			.selectFrom('studies')
			.select('id')
			.where('slug', '=', 'tampered')
			.executeTakeFirstOrThrow();

		// Someone edits an arm's pinned model parameters behind the protocol's back.
		await sql`update arms set assistant_config = jsonb_set(assistant_config, '{temperature}', '1.5')
			where study_id = ${study.id} and key = 'assistant_llm'`.execute(t.db);
		const error = await verifyRunningConfig(t.db, 'tampered').catch((e) => e);
		expect(error).toBeInstanceOf(RunningConfigError);
		expect(error.problems).toEqual(['arm "assistant_llm" differs from the preregistered protocol']);
		await expect(changeStatus(t.db, 'tampered', 'launch', CLI_ACTOR)).rejects.toThrow(
			/refuses to run/
		);
		expect(
			(
				await t.db
					.selectFrom('studies')
					.select('status')
					.where('id', '=', study.id)
					.executeTakeFirstOrThrow()
			).status
		).toBe('preregistered');

		// Even a superuser who disables the guard to rewrite the locked protocol is caught by its hash.
		await sql`alter table protocol_versions disable trigger protocol_versions_guard`.execute(t.db);
		await sql`update protocol_versions set protocol = jsonb_set(protocol, '{title}', '"Rewritten"') where study_id = ${study.id}`.execute(
			t.db
		);
		await sql`alter table protocol_versions enable trigger protocol_versions_guard`.execute(t.db);
		const second = await verifyRunningConfig(t.db, 'tampered').catch((e) => e);
		expect(second.problems).toContainEqual(
			expect.stringMatching(/^the protocol hashes to [0-9a-f]{12}…, preregistered/)
		);
	});

	it('amends only with a reason, hash-chained to the previous registration, keeping the seed', async () => {
		const p = fresh('amended');
		await saveProtocolDraft(t.db, p, CLI_ACTOR);
		const first = await preregister(t.db, 'amended', CLI_ACTOR);
		const changed = structuredClone(p);
		changed.sample_size.target = 1500;

		for (const reason of ['', '   ']) {
			const error = await amend(t.db, 'amended', changed, reason, CLI_ACTOR).catch((e) => e);
			expect(error).toBeInstanceOf(ValidationError);
			expect(error.problems).toEqual([{ path: 'reason', message: 'an amendment needs a reason' }]);
		}
		// The database refuses a reasonless amendment too, whoever writes it.
		const raw =
			await sql`insert into preregistrations (study_id, protocol_version_id, kind, sha256, protocol_sha256, seed_sha256, previous_id)
			select study_id, protocol_version_id, 'amendment', sha256, protocol_sha256, seed_sha256, id from preregistrations where id = ${first.id}`
				.execute(t.db)
				.catch((e) => e);
		expect(raw.code).toBe('23514'); // check_violation

		await expect(amend(t.db, 'amended', p, 'no change', CLI_ACTOR)).rejects.toBeInstanceOf(
			StudyStateError
		);
		const second = await amend(
			t.db,
			'amended',
			changed,
			'recruitment slower than planned: larger target',
			CLI_ACTOR
		);
		expect(second).toMatchObject({
			kind: 'amendment',
			protocolVersion: 2,
			previousSha256: first.sha256,
			seedSha256: first.seedSha256
		});
		const doc = await preregistrationDocument(t.db, 'amended');
		expect(doc.registrations.map((r) => [r.kind, r.protocol_version, r.reason])).toEqual([
			['initial', 1, null],
			['amendment', 2, 'recruitment slower than planned: larger target']
		]);
		expect(doc.protocol.sample_size.target).toBe(1500);
		expect((await verifyRunningConfig(t.db, 'amended')).preregistration.id).toBe(second.id);
	});

	it('commits to the answer key and keeps it off public pages until the study closes', async () => {
		const protocol = fresh('key-study');
		await saveProtocolDraft(t.db, protocol, CLI_ACTOR);
		const record = await preregister(t.db, 'key-study', CLI_ACTOR, { seed: 'key-seed-123' });
		expect(record.answerKeySha256).toBe(answerKeyCommitment('key-seed-123', protocol));
		// The commitment is part of what the preregistration's hash covers.
		expect(record.sha256).toBe(
			sha256OfJson(
				preregistrationPayload('key-study', { ...record, protocolVersion: record.protocolVersion })
			)
		);
		await changeStatus(t.db, 'key-study', 'launch', CLI_ACTOR);
		const running = await preregistrationDocument(t.db, 'key-study');
		const publicText = preregistrationMarkdown(running, { concealAnswerKey: true });
		expect(publicText).toContain(record.answerKeySha256!);
		expect(publicText).not.toMatch(/Correct disposition: `/);
		expect(publicText).not.toMatch(/Relevant conditions:/);
		for (const check of protocol.attention_checks)
			expect(publicText).not.toContain(`correct: ${check.correct}`);
		expect(running.answer_key_salt).toBeNull();
		// Members still see the whole protocol.
		expect(preregistrationMarkdown(running)).toMatch(/Correct disposition: `/);

		await changeStatus(t.db, 'key-study', 'close', CLI_ACTOR);
		const closed = await preregistrationDocument(t.db, 'key-study');
		// Anyone can now check the commitment from what the closed study reveals.
		const recomputed = sha256Hex(
			`${closed.answer_key_salt}\n${canonicalJson(answerKeyOf(closed.protocol))}`
		);
		expect(recomputed).toBe(record.answerKeySha256);
		expect(answerKeySalt(closed.randomization_seed!)).toBe(closed.answer_key_salt);
	});

	it('exports a card as imported, and refuses to drop an assumption a study tests', async () => {
		const parsed = parseCardYaml(
			fs.readFileSync('studies/cards/bean-triage-scenarios.yaml', 'utf8')
		);
		if (!parsed.ok) throw new Error('invalid');
		expect(await exportCard(t.db, 'bean-triage-scenarios')).toEqual(parsed.card);

		await saveProtocolDraft(t.db, fresh('card-link'), CLI_ACTOR);
		const trimmed = structuredClone(parsed.card);
		delete trimmed.outcome.decision_mediation;
		const error = await importCard(t.db, 'bean-triage-scenarios', trimmed, CLI_ACTOR).catch(
			(e) => e
		);
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.problems[0]).toMatchObject({ path: 'decision_mediation' });
		expect(await exportCard(t.db, 'bean-triage-scenarios')).toEqual(parsed.card); // nothing applied
	});
});
