import { beforeEach, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { importOutcomes } from '../../src/lib/server/outcomes/outcome-import.service.ts';
import { consent, submitScreening } from '../../src/lib/server/participants/journey.service.ts';
import { findStudyBySlug } from '../../src/lib/server/studies/studies.repository.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { databaseKinds, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ELIGIBLE, newRecruitingStudy } from '../helpers/studies.ts';

describe.each(databaseKinds())('importing outcomes (%s)', (kind) => {
	const database = useTestDatabase(kind);
	let t: TestDatabase;
	let n = 0;
	beforeEach(() => {
		t = database();
	});

	async function studyWithPeople(count: number) {
		const slug = `outcomes-${kind}-${++n}`;
		await newRecruitingStudy(t.db, slug, (p) => {
			p.outcomes.push(
				{ name: 'hospital_30d', role: 'secondary', kind: 'clinical', source: 'import' },
				{ name: 'satisfaction_90d', role: 'secondary', kind: 'proxy', source: 'import' }
			);
		});
		const ids: string[] = [];
		for (let i = 0; i < count; i++) {
			const { participant } = await consent(t.db, slug, {
				agree: true,
				params: new URLSearchParams()
			});
			await submitScreening(t.db, slug, participant.id, ELIGIBLE);
			ids.push(participant.id);
		}
		return { slug, ids, studyId: (await findStudyBySlug(t.db, slug))!.id };
	}

	const imported = (studyId: string) =>
		t.db
			.selectFrom('measures')
			.innerJoin('participants', 'participants.id', 'measures.participant_id')
			.select(['measures.measure', 'measures.value_numeric', 'measures.source'])
			.where('participants.study_id', '=', studyId)
			.where('measures.source', '=', 'import')
			.execute();

	it('imports a valid file in one go, with an audit entry', async () => {
		const { slug, ids, studyId } = await studyWithPeople(2);
		const csv = [
			'participant_id,episode,measure,value',
			`${ids[0]},1,hospital_30d,1`,
			`${ids[1]},2,hospital_30d,0`,
			`${ids[0]},,satisfaction_90d,4.5`
		].join('\n');
		const result = await importOutcomes(t.db, slug, csv, CLI_ACTOR);
		expect(result).toMatchObject({
			imported: 3,
			measures: { hospital_30d: 2, satisfaction_90d: 1 }
		});
		expect(await imported(studyId)).toHaveLength(3);
		const audit = await t.db
			.selectFrom('audit_events')
			.select('details')
			.where('action', '=', 'outcomes.import')
			.where('study_id', '=', studyId)
			.execute();
		expect(audit[0]!.details).toMatchObject({ rows: 3, sha256: result.sha256 });
	});

	it('reports every problem with its row and imports nothing', async () => {
		const { slug, ids, studyId } = await studyWithPeople(1);
		const other = await studyWithPeople(1);
		const csv = [
			'participant_id,episode,measure,value',
			`${ids[0]},1,hospital_30d,1`, // fine on its own
			`${other.ids[0]},1,hospital_30d,1`, // another study's participant
			`not-a-participant,1,hospital_30d,1`,
			`${ids[0]},7,hospital_30d,0`, // no such episode
			`${ids[0]},x,hospital_30d,0`,
			`${ids[0]},2,confidence,5`, // a questionnaire item, not imported
			`${ids[0]},2,hospital_30d,2`, // clinical must be 0/1
			`${ids[0]},1,hospital_30d,0`, // duplicate of row 2
			`${ids[0]},,satisfaction_90d,lots`,
			`${ids[0]},2,hospital_30d,"; drop table measures; --"`
		].join('\n');
		const error = await importOutcomes(t.db, slug, csv, CLI_ACTOR).catch((e) => e);
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.problems.map((p: { path: string }) => p.path)).toEqual([
			'row 3, participant_id',
			'row 4, participant_id',
			'row 5, episode',
			'row 6, episode',
			'row 7, measure',
			'row 8, value',
			'row 9, measure',
			'row 10, value',
			'row 11, value'
		]);
		expect(error.problems[6].message).toBe('duplicate of row 2');
		expect(await imported(studyId)).toHaveLength(0);
	});

	it('refuses a file without the required columns, malformed CSV, and values already imported', async () => {
		const { slug, ids, studyId } = await studyWithPeople(1);
		const missing = await importOutcomes(t.db, slug, 'participant,value\nx,1', CLI_ACTOR).catch(
			(e) => e
		);
		expect(missing.problems.map((p: { path: string }) => p.path)).toEqual([
			'column participant_id',
			'column measure'
		]);
		const ragged = await importOutcomes(
			t.db,
			slug,
			`participant_id,episode,measure,value\n${ids[0]},1,hospital_30d,1,extra`,
			CLI_ACTOR
		).catch((e) => e);
		expect(ragged.problems[0].message).toMatch(/not valid CSV/);
		await importOutcomes(
			t.db,
			slug,
			`participant_id,episode,measure,value\n${ids[0]},1,hospital_30d,1`,
			CLI_ACTOR
		);
		const again = await importOutcomes(
			t.db,
			slug,
			`participant_id,episode,measure,value\n${ids[0]},1,hospital_30d,0`,
			CLI_ACTOR
		).catch((e) => e);
		expect(again.problems[0].message).toMatch(/write-once/);
		const values = await imported(studyId);
		expect(values).toEqual([{ measure: 'hospital_30d', value_numeric: 1, source: 'import' }]);
	});
});
