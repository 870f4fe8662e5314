import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import {
	newArm,
	newEpisodeWorld,
	newPreregistration,
	newProtocolVersion,
	newStudy
} from '../helpers/factories.ts';

/** Runs a statement and returns the database error it raised (or fails if it raised none). */
async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string }> {
	try {
		await work;
	} catch (error) {
		const e = error as { code?: string; message: string };
		return { code: e.code ?? '', message: e.message };
	}
	throw new Error('the database accepted a change it must refuse');
}

describe.each(databaseKinds())('locked rows stay locked in the database (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	beforeEach(() => {
		t = database();
	});

	it('refuses to update or delete a submitted decision', async () => {
		const { episode } = await newEpisodeWorld(t.db);
		const decision = await t.db
			.insertInto('decisions')
			.values({ episode_id: episode.id, disposition: 'self_care', conditions_text: ['flu'] })
			.returningAll()
			.executeTakeFirstOrThrow();

		const update = await refusal(
			t.db
				.updateTable('decisions')
				.set({ disposition: 'ambulance' })
				.where('id', '=', decision.id)
				.execute()
		);
		expect(update.code).toBe('BS001');
		expect(update.message).toBe(
			'UPDATE on decisions refused: a submitted decision is immutable; record a correction instead'
		);
		expect(
			(await refusal(t.db.deleteFrom('decisions').where('id', '=', decision.id).execute())).code
		).toBe('BS001');
		expect((await refusal(sql`truncate decisions cascade`.execute(t.db))).code).toBe('BS001');

		const stored = await t.db
			.selectFrom('decisions')
			.selectAll()
			.where('id', '=', decision.id)
			.executeTakeFirstOrThrow();
		expect(stored.disposition).toBe('self_care');
		expect(stored.conditions_text).toEqual(['flu']);
	});

	it('refuses a second decision for the same episode', async () => {
		const { episode } = await newEpisodeWorld(t.db);
		await t.db
			.insertInto('decisions')
			.values({ episode_id: episode.id, disposition: 'self_care' })
			.execute();
		const second = await refusal(
			t.db
				.insertInto('decisions')
				.values({ episode_id: episode.id, disposition: 'ambulance' })
				.execute()
		);
		expect(second.code).toBe('23505'); // unique_violation
	});

	it('refuses to edit or delete a logged message, also by raw SQL', async () => {
		const { episode } = await newEpisodeWorld(t.db);
		const message = await t.db
			.insertInto('messages')
			.values({ episode_id: episode.id, turn: 1, role: 'user', content: 'I have a sore throat' })
			.returningAll()
			.executeTakeFirstOrThrow();

		const raw = await refusal(
			sql`update messages set content = 'edited' where id = ${message.id}`.execute(t.db)
		);
		expect(raw).toEqual({
			code: 'BS001',
			message: 'UPDATE on messages refused: a logged message is append-only'
		});
		expect(
			(await refusal(sql`delete from messages where id = ${message.id}`.execute(t.db))).message
		).toBe('DELETE on messages refused: a logged message is append-only');
		const stored = await t.db
			.selectFrom('messages')
			.select('content')
			.where('id', '=', message.id)
			.executeTakeFirstOrThrow();
		expect(stored.content).toBe('I have a sore throat');
	});

	it('refuses any change to a preregistration', async () => {
		const study = await newStudy(t.db);
		const version = await newProtocolVersion(t.db, study.id, { lockedAt: new Date() });
		const prereg = await newPreregistration(t.db, study.id, version.id);
		const update = await refusal(
			t.db
				.updateTable('preregistrations')
				.set({ reason: 'oops' })
				.where('id', '=', prereg.id)
				.execute()
		);
		expect(update.code).toBe('BS001');
		expect(update.message).toMatch(
			/^UPDATE on preregistrations refused: a preregistration is immutable/
		);
		expect(
			(await refusal(t.db.deleteFrom('preregistrations').where('id', '=', prereg.id).execute()))
				.code
		).toBe('BS001');
		// Nor can its study be deleted from under it.
		expect(
			await refusal(t.db.deleteFrom('studies').where('id', '=', study.id).execute())
		).toMatchObject({
			code: expect.stringMatching(/^(23503|BS001)$/)
		});
	});

	it('lets a draft protocol version be locked once, then refuses every change', async () => {
		const study = await newStudy(t.db);
		const version = await newProtocolVersion(t.db, study.id);

		const contentEdit = await refusal(
			t.db
				.updateTable('protocol_versions')
				.set({ protocol: JSON.stringify({ edited: true }) })
				.where('id', '=', version.id)
				.execute()
		);
		expect(contentEdit.message).toMatch(
			/protocol content is immutable; save a new version instead/
		);

		await t.db
			.updateTable('protocol_versions')
			.set({ locked_at: new Date() })
			.where('id', '=', version.id)
			.execute();
		const unlock = await refusal(
			t.db
				.updateTable('protocol_versions')
				.set({ locked_at: null })
				.where('id', '=', version.id)
				.execute()
		);
		expect(unlock.message).toMatch(/version 1 is locked by a preregistration; amend instead/);
		const remove = await refusal(
			t.db.deleteFrom('protocol_versions').where('id', '=', version.id).execute()
		);
		expect(remove.code).toBe('BS001');
	});

	it('lets a free allocation slot be taken once, never reassigned or rewritten', async () => {
		const { study, participant } = await newEpisodeWorld(t.db);
		const arm = await newArm(t.db, study.id, { key: 'other-arm' });
		const slot = await t.db
			.insertInto('allocation_slots')
			.values({
				study_id: study.id,
				position: 1,
				arm_id: arm.id,
				method: 'simple',
				algorithm_version: 'test'
			})
			.returningAll()
			.executeTakeFirstOrThrow();

		const rewrite = await refusal(
			t.db.updateTable('allocation_slots').set({ position: 2 }).where('id', '=', slot.id).execute()
		);
		expect(rewrite.message).toMatch(/the allocation sequence is immutable/);

		await t.db
			.updateTable('allocation_slots')
			.set({ participant_id: participant.id, taken_at: new Date() })
			.where('id', '=', slot.id)
			.execute();
		const retake = await refusal(
			t.db
				.updateTable('allocation_slots')
				.set({ participant_id: null, taken_at: null })
				.where('id', '=', slot.id)
				.execute()
		);
		expect(retake.message).toMatch(/slot 1 of stratum "" is already taken/);
	});

	it('keeps the audit log append-only', async () => {
		const event = await t.db
			.insertInto('audit_events')
			.values({ actor_kind: 'system', action: 'test.event' })
			.returningAll()
			.executeTakeFirstOrThrow();
		expect(
			(
				await refusal(
					t.db.updateTable('audit_events').set({ action: 'x' }).where('id', '=', event.id).execute()
				)
			).code
		).toBe('BS001');
		expect(
			(await refusal(t.db.deleteFrom('audit_events').where('id', '=', event.id).execute())).code
		).toBe('BS001');
	});
});
