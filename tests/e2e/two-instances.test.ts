import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

/** Posts a form to a SvelteKit action as a browser without JavaScript would. */
async function post(base: string, action: string, fields: Record<string, string>, cookie?: string) {
	const response = await fetch(`${base}/s/burst?/${action}`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: base,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded',
			...(cookie && { cookie })
		},
		body: new URLSearchParams(fields)
	});
	return response;
}

describe.runIf(databaseKinds().includes('pg'))('two app instances on one PostgreSQL', () => {
	let servers: RunningServer[] = [];
	let url = '';
	let drop = async () => {};

	beforeAll(async () => {
		const created = await createPgTestDatabase();
		url = created.url;
		drop = created.drop;
		const db = await openDatabase({ kind: 'pg', url, poolSize: 2 });
		await newRecruitingStudy(db.db, 'burst');
		await db.close();
		servers = await Promise.all([
			// 120 people from 127.0.0.1: the per-address enrolment limit (tested on its own) is off.
			startServer({ databaseUrl: url, env: { BEDSIDE_ENROL_PER_ADDRESS: '0' } }),
			startServer({ databaseUrl: url, env: { BEDSIDE_ENROL_PER_ADDRESS: '0' } })
		]);
	});
	afterAll(async () => {
		await Promise.all(servers.map((s) => s.stop('SIGKILL')));
		await drop();
	});

	it('refuse a cross-origin form post (CSRF)', async () => {
		const response = await fetch(`${servers[0]!.url}/s/burst?/consent`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: 'http://evil.invalid',
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams({ agree: 'yes' })
		});
		expect(response.status).toBe(403);
	});

	it('enroll 120 participants hitting both at once: each allocated once, no slot twice, blocks balanced', async () => {
		const enroll = async (i: number) => {
			const base = servers[i % 2]!.url;
			const consent = await post(base, 'consent', {
				entry: `?PROLIFIC_PID=http-${i}`,
				agree: 'yes'
			});
			expect(consent.status).toBe(303);
			const cookie = /bedside_participant=[^;]+/.exec(consent.headers.get('set-cookie') ?? '')?.[0];
			expect(cookie).toBeDefined();
			// The second instance continues what the first began: state lives in the database.
			const other = servers[(i + 1) % 2]!.url;
			const screening = await post(
				other,
				'screening',
				{ adult: 'yes', medical_training: 'none', chatbot_use: i % 3 ? 'often' : 'rarely' },
				cookie
			);
			expect(screening.status).toBe(303);
			// A double submit from a slow network changes nothing.
			expect(
				(
					await post(
						base,
						'screening',
						{ adult: 'yes', medical_training: 'none', chatbot_use: 'rarely' },
						cookie
					)
				).status
			).toBe(303);
		};
		const queue = Array.from({ length: 120 }, (_, i) => i);
		await Promise.all(
			Array.from({ length: 24 }, async () => {
				for (let i = queue.shift(); i !== undefined; i = queue.shift()) await enroll(i);
			})
		);

		const db = await openDatabase({ kind: 'pg', url, poolSize: 2 });
		try {
			const taken = await db.db
				.selectFrom('allocation_slots')
				.innerJoin('arms', 'arms.id', 'allocation_slots.arm_id')
				.innerJoin('participants', 'participants.id', 'allocation_slots.participant_id')
				.select([
					'allocation_slots.participant_id',
					'allocation_slots.stratum',
					'allocation_slots.position',
					'allocation_slots.block_number',
					'allocation_slots.block_size',
					'arms.key',
					'participants.screening'
				])
				.execute();
			expect(taken).toHaveLength(120);
			expect(new Set(taken.map((s) => s.participant_id)).size).toBe(120);
			// Every participant is in the stratum of their first screening answer.
			for (const s of taken)
				expect(s.stratum).toBe(
					`chatbot_use=${(s.screening as Record<string, string>).chatbot_use}`
				);
			for (const stratum of new Set(taken.map((s) => s.stratum))) {
				const mine = taken.filter((s) => s.stratum === stratum);
				expect(mine.map((s) => s.position).sort((a, b) => a - b)).toEqual(
					mine.map((_, i) => i + 1)
				);
				for (const block of new Set(mine.map((s) => s.block_number))) {
					const arms = mine.filter((s) => s.block_number === block);
					if (arms.length < arms[0]!.block_size!) continue;
					const counts = ['control', 'assistant_llm', 'assistant_scripted'].map(
						(a) => arms.filter((s) => s.key === a).length
					);
					expect(counts).toEqual([arms.length / 3, arms.length / 3, arms.length / 3]);
				}
			}
		} finally {
			await db.close();
		}
	});
});
