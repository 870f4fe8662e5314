import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { createUser } from '../../src/lib/server/auth/auth.service.ts';
import {
	createAccessToken,
	revokeAccessToken
} from '../../src/lib/server/auth/access-tokens.service.ts';
import { findUserByEmail } from '../../src/lib/server/auth/users.repository.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';
import { documentedStatus, responseSchema, schemaProblems } from '../helpers/openapi-check.ts';
import { upsertMembership, type StudyRole } from '../../src/lib/server/auth/users.repository.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

// The authorization matrix: every workspace route and endpoint × anonymous, each role, a signed-in
// outsider, and participants; the expected status of each, against the built server.

const PASSWORD = 'matrix password 123';
const ROLES: StudyRole[] = ['owner', 'researcher', 'analyst', 'viewer'];
type Who = 'anonymous' | 'outsider' | StudyRole;
const EVERYONE: Who[] = ['anonymous', 'outsider', ...ROLES];

let server: RunningServer;
const cookies = new Map<Who, string>();

// Personal access tokens, for the API's rows of the matrix: one per role (the member's own role),
// the outsider's (for its own study), an expired one, a revoked one, an owner's token narrowed to
// viewer, and one whose owner has since left the study.
type Bearer =
	'none' | 'bogus' | 'outsider' | StudyRole | 'expired' | 'revoked' | 'narrowed' | 'left';
const BEARERS: Bearer[] = [
	'none',
	'bogus',
	'outsider',
	...ROLES,
	'expired',
	'revoked',
	'narrowed',
	'left'
];
const tokens = new Map<Bearer, string>();
let tooWide: unknown;

beforeAll(async () => {
	const dataDir = tempDir('bedside-authz-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'authz', (p) => {
		p.outcomes.push({
			name: 'hospital_30d',
			role: 'secondary',
			kind: 'clinical',
			source: 'import'
		});
	});
	await newRecruitingStudy(db.db, 'other');
	const study = await db.db
		.selectFrom('studies')
		.select('id')
		.where('slug', '=', 'authz')
		.executeTakeFirstOrThrow();
	const other = await db.db
		.selectFrom('studies')
		.select('id')
		.where('slug', '=', 'other')
		.executeTakeFirstOrThrow();
	for (const role of ROLES) {
		const { user } = await createUser(
			db.db,
			{ email: `${role}@example.org`, password: PASSWORD },
			CLI_ACTOR
		);
		await upsertMembership(db.db, user.id, study.id, role);
	}
	// The outsider owns another study: a member of something, just not of this.
	const { user } = await createUser(
		db.db,
		{ email: 'outsider@example.org', password: PASSWORD },
		CLI_ACTOR
	);
	await upsertMembership(db.db, user.id, other.id, 'owner');
	const userOf = async (email: string) => (await findUserByEmail(db.db, email))!;
	const token = async (
		email: string,
		role: StudyRole,
		studies = ['authz'],
		days = 30,
		now?: Date
	) =>
		(
			await createAccessToken(
				db.db,
				await userOf(email),
				{ name: `t-${role}`, role, studies, expiresInDays: days },
				now
			)
		).secret;
	for (const role of ROLES) tokens.set(role, await token(`${role}@example.org`, role));
	tokens.set('outsider', await token('outsider@example.org', 'owner', ['other']));
	tokens.set(
		'expired',
		await token('owner@example.org', 'owner', ['authz'], 1, new Date(Date.now() - 2 * 86_400_000))
	);
	tokens.set('narrowed', await token('owner@example.org', 'viewer'));
	const revoked = await createAccessToken(db.db, await userOf('owner@example.org'), {
		name: 'to revoke',
		role: 'owner',
		studies: ['authz'],
		expiresInDays: 30
	});
	await revokeAccessToken(db.db, await userOf('owner@example.org'), revoked.id);
	tokens.set('revoked', revoked.secret);
	const { user: leaver } = await createUser(
		db.db,
		{ email: 'leaver@example.org', password: PASSWORD },
		CLI_ACTOR
	);
	await upsertMembership(db.db, leaver.id, study.id, 'analyst');
	tokens.set('left', await token('leaver@example.org', 'analyst'));
	await db.db.deleteFrom('memberships').where('user_id', '=', leaver.id).execute();
	tokens.set('bogus', 'bsd_pat_thisisnotatokenthisisnotatoken0000000');
	// A researcher may not make an analyst token (an analyst may export; a researcher may not).
	tooWide = await createAccessToken(db.db, await userOf('researcher@example.org'), {
		name: 'wider',
		role: 'analyst',
		studies: ['authz'],
		expiresInDays: 30
	}).catch((e) => e);
	await db.close();
	server = await startServer({ dataDir, env: { BEDSIDE_SEED_DEMO: 'false' } });
	for (const who of ['outsider', ...ROLES] as Who[]) {
		const response = await fetch(`${server.url}/login`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: server.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams({ email: `${who}@example.org`, password: PASSWORD })
		});
		expect(response.status, `sign-in of ${who}`).toBe(303);
		const cookie = response.headers.getSetCookie().find((c) => c.startsWith('bedside_session='));
		cookies.set(who, cookie!.split(';')[0]!);
	}
});
afterAll(() => server?.stop('SIGKILL'));

function request(who: Who, path: string, init: RequestInit = {}) {
	return fetch(`${server.url}${path}`, {
		...init,
		redirect: 'manual',
		headers: {
			origin: server.url,
			accept: 'text/html',
			...(init.headers as Record<string, string>),
			...(cookies.has(who) && { cookie: cookies.get(who)! })
		}
	});
}

/** The status each person gets for one form post: a urlencoded body, or a fresh multipart form. */
async function postAsEveryone(path: string, body: string | (() => FormData)): Promise<number[]> {
	const statuses: number[] = [];
	for (const who of EVERYONE) {
		const init: RequestInit =
			typeof body === 'string'
				? {
						method: 'POST',
						headers: { 'content-type': 'application/x-www-form-urlencoded' },
						body
					}
				: { method: 'POST', body: body() };
		statuses.push((await request(who, path, init)).status);
	}
	return statuses;
}

/** Expected status per person: [anonymous, outsider, owner, researcher, analyst, viewer]. */
const PAGES: [string, number[]][] = [
	['/studies', [303, 200, 200, 200, 200, 200]],
	['/studies/authz', [303, 404, 200, 200, 200, 200]],
	['/studies/authz/edit', [303, 404, 200, 200, 403, 403]],
	['/studies/authz/coding', [303, 404, 200, 200, 200, 403]],
	['/studies/authz/outcomes', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/export.zip', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/preregistration.md', [303, 404, 200, 200, 200, 200]],
	['/studies/authz/audit', [303, 404, 200, 403, 403, 403]],
	['/studies/authz/analysis', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/report.md', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/report.html', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/analysis.json', [303, 404, 200, 403, 200, 403]],
	['/studies/authz/coding/00000000-0000-0000-0000-000000000000', [303, 404, 404, 404, 404, 403]],
	['/studies/nonexistent', [303, 404, 404, 404, 404, 404]],
	['/admin/users', [303, 403, 403, 403, 403, 403]],
	// Institutional sign-in is not configured on this instance (tests/e2e/oidc.test.ts has it).
	['/login/oidc', [404, 404, 404, 404, 404, 404]],
	['/login/oidc/callback?code=x&state=y', [303, 303, 303, 303, 303, 303]],
	['/account/tokens', [303, 200, 200, 200, 200, 200]],
	['/registry', [200, 200, 200, 200, 200, 200]],
	['/registry/authz', [200, 200, 200, 200, 200, 200]]
];

describe('the authorization matrix', () => {
	it.each(PAGES)('GET %s', async (path, expected) => {
		const got: number[] = [];
		for (const who of EVERYONE) got.push((await request(who, path)).status);
		expect(got).toEqual(expected);
	});

	it('POST actions: refused roles get 403; allowed roles reach validation (400)', async () => {
		// An unknown lifecycle action is refused by validation, after authorization.
		expect(await postAsEveryone('/studies/authz?/status', 'action=explode')).toEqual([
			303, 404, 400, 400, 403, 403
		]);
		expect(
			await postAsEveryone('/studies/authz/outcomes', () => {
				const form = new FormData();
				form.set(
					'file',
					new Blob(['participant_id,episode,measure,value\nnobody,1,hospital_30d,1\n'], {
						type: 'text/csv'
					}),
					'x.csv'
				);
				return form;
			})
		).toEqual([303, 404, 400, 403, 400, 403]);
		// Adding a member: owners only (an unknown email is a validation error, 400).
		expect(
			await postAsEveryone('/studies/authz?/member', 'email=nobody%40example.org&role=viewer')
		).toEqual([303, 404, 400, 403, 403, 403]);
		// Inviting: admins only.
		expect(await postAsEveryone('/admin/users?/invite', 'email=new%40example.org')).toEqual([
			303, 403, 403, 403, 403, 403
		]);
		// Writing evidence to the cards: owners and analysts, and only once the study is closed
		// (this one recruits: refused with the reason, 400).
		expect(await postAsEveryone('/studies/authz/analysis?/evidence', '')).toEqual([
			303, 404, 400, 403, 400, 403
		]);
		// Test mode: owners and researchers (an arm that does not exist is a validation error).
		expect(await postAsEveryone('/studies/authz?/test', 'arm=no_such_arm')).toEqual([
			303, 404, 400, 400, 403, 403
		]);
		// Irreversible steps ask first: an unconfirmed close is answered with the question (400).
		expect(await postAsEveryone('/studies/authz?/status', 'action=close')).toEqual([
			303, 404, 400, 400, 403, 403
		]);
	});

	it('refuses cross-origin form posts', async () => {
		const r = await fetch(`${server.url}/studies/authz?/status`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: 'https://evil.example',
				'content-type': 'application/x-www-form-urlencoded',
				cookie: cookies.get('owner')!
			},
			body: 'action=pause'
		});
		expect(r.status).toBe(403);
	});

	it('gives participants endpoints nothing without their own cookie', async () => {
		const chat = await request('owner', '/s/authz/chat', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ episode: 1, text: 'hi' })
		});
		expect(chat.status).toBe(403); // a researcher's session is not a participant's
		const events = await request('anonymous', '/s/authz/events', { method: 'POST', body: '[]' });
		expect(events.status).toBe(403);

		// A participant of "other" cannot use their cookie on "authz" (cookies are per study path
		// and per study in the database).
		const page = await fetch(`${server.url}/s/other`, { redirect: 'manual' });
		expect(page.status).toBe(200);
		const consented = await fetch(`${server.url}/s/other?/consent`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: server.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: 'agree=yes&entry='
		});
		const token = consented.headers
			.getSetCookie()
			.find((c) => c.startsWith('bedside_participant='))!
			.split(';')[0]!;
		const crossed = await fetch(`${server.url}/s/authz/chat`, {
			method: 'POST',
			headers: { origin: server.url, 'content-type': 'application/json', cookie: token },
			body: JSON.stringify({ episode: 1, text: 'hi' })
		});
		expect(crossed.status).toBe(403);
		// A JSON post from another origin is refused even with the right cookie.
		const foreign = await fetch(`${server.url}/s/other/chat`, {
			method: 'POST',
			headers: {
				origin: 'https://evil.example',
				'content-type': 'application/json',
				cookie: token
			},
			body: JSON.stringify({ episode: 1, text: 'hi' })
		});
		expect(foreign.status).toBe(403);
		const oversized = await fetch(`${server.url}/s/other/chat`, {
			method: 'POST',
			headers: { origin: server.url, 'content-type': 'application/json', cookie: token },
			body: JSON.stringify({ episode: 1, text: 'x'.repeat(30_000) })
		});
		expect(oversized.status).toBe(413);
	});

	it('issues a new session on sign-in whatever cookie came with it (no fixation), and refuses oversized uploads', async () => {
		const planted = 'bedside_session=attackerchosenvalue1234';
		const response = await fetch(`${server.url}/login`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: server.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				cookie: planted
			},
			body: new URLSearchParams({ email: 'viewer@example.org', password: PASSWORD })
		});
		const issued = response.headers.getSetCookie().find((c) => c.startsWith('bedside_session='))!;
		expect(issued.split(';')[0]).not.toBe(planted);
		const withPlanted = await fetch(`${server.url}/studies`, {
			redirect: 'manual',
			headers: { cookie: planted }
		});
		expect(withPlanted.status).toBe(303); // the planted value is no session

		const form = new FormData();
		form.set('file', new Blob(['x'.repeat(7 * 1024 * 1024)], { type: 'text/csv' }), 'big.csv');
		const big = await request('analyst', '/studies/authz/outcomes', { method: 'POST', body: form });
		expect(big.status).toBe(413);
	});

	it("refuses a token wider than its owner's role", () => {
		expect(tooWide).toBeInstanceOf(ValidationError);
		expect((tooWide as ValidationError).problems[0]!.message).toMatch(
			/an analyst token may do more than your role in "authz" \(researcher\) allows/
		);
	});
});

/** Expected status per bearer: [none, bogus, outsider, owner, researcher, analyst, viewer, expired, revoked, narrowed, left]. */
const API: [string, string, string, number[]][] = [
	[
		'GET',
		'/api/v1/studies',
		'/api/v1/studies',
		[401, 401, 200, 200, 200, 200, 200, 401, 401, 200, 200]
	],
	[
		'GET',
		'/api/v1/studies/authz',
		'/api/v1/studies/{slug}',
		[401, 401, 404, 200, 200, 200, 200, 401, 401, 200, 404]
	],
	[
		'GET',
		'/api/v1/studies/authz/monitoring',
		'/api/v1/studies/{slug}/monitoring',
		[401, 401, 404, 200, 200, 200, 200, 401, 401, 200, 404]
	],
	[
		'GET',
		'/api/v1/studies/authz/benchmark-runs',
		'/api/v1/studies/{slug}/benchmark-runs',
		[401, 401, 404, 200, 200, 200, 200, 401, 401, 200, 404]
	],
	[
		'GET',
		'/api/v1/studies/authz/export.zip',
		'/api/v1/studies/{slug}/export.zip',
		[401, 401, 404, 200, 403, 200, 403, 401, 401, 403, 404]
	],
	[
		'GET',
		'/api/v1/studies/authz/analysis.json',
		'/api/v1/studies/{slug}/analysis.json',
		[401, 401, 404, 200, 403, 200, 403, 401, 401, 403, 404]
	],
	[
		'POST',
		'/api/v1/studies/authz/outcomes',
		'/api/v1/studies/{slug}/outcomes',
		[401, 401, 404, 400, 403, 400, 403, 401, 401, 403, 404]
	],
	[
		'GET',
		'/api/v1/studies/other',
		'/api/v1/studies/{slug}',
		[401, 401, 200, 404, 404, 404, 404, 401, 401, 404, 404]
	]
];

describe('the authorization matrix of the HTTP API (personal access tokens)', () => {
	const call = (bearer: Bearer, method: string, path: string) =>
		fetch(`${server.url}${path}`, {
			method,
			redirect: 'manual',
			headers: {
				...(tokens.has(bearer) && { authorization: `Bearer ${tokens.get(bearer)}` }),
				...(method === 'POST' && { 'content-type': 'text/csv' })
			},
			...(method === 'POST' && {
				body: 'participant_id,episode,measure,value\nnobody,1,hospital_30d,1\n'
			})
		});

	it.each(API)('%s %s', async (method, path, described, expected) => {
		const got: number[] = [];
		for (const bearer of BEARERS) {
			const response = await call(bearer, method, path);
			got.push(response.status);
			expect(
				documentedStatus(described, method, response.status),
				`${bearer}: ${response.status} is documented`
			).toBe(true);
			const schema = responseSchema(described, method, response.status);
			if (schema) expect(schemaProblems(await response.json(), schema), bearer).toEqual([]);
			else await response.arrayBuffer();
		}
		expect(got).toEqual(expected);
	});

	it('takes no session cookie, audits what a token did, and the description is public', async () => {
		const withCookie = await request('owner', '/api/v1/studies/authz');
		expect(withCookie.status).toBe(401);
		expect(withCookie.headers.get('www-authenticate')).toMatch(/^Bearer/);
		const wrongType = await fetch(`${server.url}/api/v1/studies/authz/outcomes`, {
			method: 'POST',
			headers: {
				authorization: `Bearer ${tokens.get('owner')}`,
				'content-type': 'application/json'
			},
			body: '{}'
		});
		expect(wrongType.status).toBe(415);
		const audit = await request('owner', '/studies/authz/audit');
		const text = (await audit.text()).replace(/\s+/g, ' ');
		expect(text).toMatch(/token/);
		expect(text).toMatch(/study\.export/);
		const doc = await fetch(`${server.url}/api/v1/openapi.json`);
		expect(doc.status).toBe(200);
		expect((await doc.json()).openapi).toBe('3.1.0');
	});
});
