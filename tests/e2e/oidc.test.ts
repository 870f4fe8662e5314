import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/lib/server/actor.ts';
import { createUser, signIn } from '../../src/lib/server/auth/auth.service.ts';
import { upsertMembership } from '../../src/lib/server/auth/users.repository.ts';
import { openDatabase } from '../../src/lib/server/db/index.ts';
import { migrateToLatest } from '../../src/lib/server/db/migrate.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startOidcProvider, type OidcTestProvider } from '../helpers/oidc-provider.ts';
import { freePort, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { newRecruitingStudy } from '../helpers/studies.ts';

// Institutional sign-in against a real OpenID Connect provider: the first sign-in of an invited
// person takes up their invitation (and spends its one-time password); later ones find the account
// by the provider's subject; nobody without an invitation gets an account; a callback without the
// flow's state is refused.

let provider: OidcTestProvider;
let server: RunningServer;
let browser: Browser;
let dataDir: string;
let oneTimePassword: string;

beforeAll(async () => {
	const port = await freePort();
	provider = await startOidcProvider(`http://127.0.0.1:${port}/login/oidc/callback`);
	provider.accounts.set('ada', { email: 'Ada@Uni.example', email_verified: true, name: 'Ada' });
	provider.accounts.set('eve', { email: 'eve@uni.example', email_verified: true });
	provider.accounts.set('mallory', { email: 'bob@uni.example', email_verified: false });
	dataDir = tempDir('bedside-oidc-');
	const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
	await migrateToLatest(db.db);
	await newRecruitingStudy(db.db, 'sso');
	// The admin's invitations: Ada (an analyst of the study) and Bob.
	const invited = await createUser(db.db, { email: 'ada@uni.example' }, CLI_ACTOR);
	oneTimePassword = invited.oneTimePassword!;
	const study = await db.db
		.selectFrom('studies')
		.select('id')
		.where('slug', '=', 'sso')
		.executeTakeFirstOrThrow();
	await upsertMembership(db.db, invited.user.id, study.id, 'analyst');
	await createUser(db.db, { email: 'bob@uni.example' }, CLI_ACTOR);
	await db.close();
	server = await startServer({
		dataDir,
		port,
		env: {
			BEDSIDE_SEED_DEMO: 'false',
			BEDSIDE_OIDC_ISSUER: provider.issuer,
			BEDSIDE_OIDC_CLIENT_ID: provider.clientId,
			BEDSIDE_OIDC_CLIENT_SECRET: provider.clientSecret,
			BEDSIDE_OIDC_NAME: 'Example University'
		}
	});
	browser = await launchBrowser();
});
afterAll(async () => {
	await browser?.close();
	await server?.stop('SIGKILL');
	await provider?.close();
});

/** Signs in at the provider's development login page as `login`, consenting when asked. */
async function institutionSignIn(page: Page, login: string) {
	await page.goto(`${server.url}/login?next=/studies/sso`);
	await page.getByRole('link', { name: 'Sign in with Example University' }).click();
	await page.waitForURL(`${provider.issuer}/**`);
	await page.locator('input[name="login"]').fill(login);
	await page.locator('input[name="password"]').fill('any password');
	await page.getByRole('button', { name: 'Sign-in' }).click();
	const consent = page.getByRole('button', { name: 'Continue' });
	await page.waitForURL((u) => u.origin === server.url || u.href.includes('/interaction/'));
	if (page.url().includes('/interaction/') && (await consent.count()) > 0) await consent.click();
	await page.waitForURL(`${server.url}/**`);
}

describe('sign-in through the institution (OpenID Connect)', () => {
	it('maps the first sign-in to the invitation, and later ones to the same account', async () => {
		const page = await (await browser.newContext()).newPage();
		await institutionSignIn(page, 'ada');
		expect(new URL(page.url()).pathname).toBe('/studies/sso');
		// The session is an ordinary one, with the invitation's role (analyst) and no more.
		expect((await page.goto(`${server.url}/studies/sso/analysis`))!.status()).toBe(200);
		expect((await page.goto(`${server.url}/studies/sso/edit`))!.status()).toBe(403);
		await page.context().close();

		// Later, with a changed email at the institution: the subject finds the same account.
		provider.accounts.set('ada', { email: 'ada.lovelace@uni.example', email_verified: true });
		const again = await (await browser.newContext()).newPage();
		await institutionSignIn(again, 'ada');
		expect(new URL(again.url()).pathname).toBe('/studies/sso');
		await again.context().close();
	});

	it('never opens an account without an invitation, or for an unverified email', async () => {
		const page = await (await browser.newContext()).newPage();
		await institutionSignIn(page, 'eve');
		expect(new URL(page.url()).searchParams.get('oidc')).toBe('no_invitation');
		await expect(page.getByTestId('oidc-message').textContent()).resolves.toMatch(
			/Ask an administrator to invite you/
		);
		await page.goto(`${server.url}/studies`);
		expect(new URL(page.url()).pathname).toBe('/login');
		await page.context().close();
		// Another browser (the provider's session is per browser): claims Bob's email, unverified.
		const other = await (await browser.newContext()).newPage();
		await institutionSignIn(other, 'mallory');
		expect(new URL(other.url()).searchParams.get('oidc')).toBe('unverified_email');
		await other.context().close();
	});

	it('refuses a callback that did not start here (no state), and one with a forged state', async () => {
		const bare = await fetch(`${server.url}/login/oidc/callback?code=abc&state=xyz`, {
			redirect: 'manual'
		});
		expect(bare.status).toBe(303);
		expect(bare.headers.get('location')).toBe('/login?oidc=expired');
		// Start a flow, then come back with another state than the one kept.
		const start = await fetch(`${server.url}/login/oidc`, { redirect: 'manual' });
		expect(start.status).toBe(303);
		expect(start.headers.get('location')).toMatch(new RegExp(`^${provider.issuer}/auth\\?`));
		const cookie = start.headers
			.getSetCookie()
			.find((c) => c.startsWith('bedside_oidc='))!
			.split(';')[0]!;
		const forged = await fetch(`${server.url}/login/oidc/callback?code=abc&state=forged`, {
			redirect: 'manual',
			headers: { cookie }
		});
		expect(forged.headers.get('location')).toBe('/login?oidc=failed');
	});

	it('links once: the audit says so, nobody new was created, the one-time password is spent', async () => {
		await server.stop('SIGTERM');
		const db = await openDatabase({ kind: 'pglite', dataDir: `${dataDir}/pglite` });
		try {
			const users = await db.db.selectFrom('users').select('email').orderBy('email').execute();
			expect(users.map((u) => u.email)).toEqual(['ada@uni.example', 'bob@uni.example']);
			const links = await db.db.selectFrom('user_identities').selectAll().execute();
			expect(links).toHaveLength(1);
			expect(links[0]).toMatchObject({ issuer: provider.issuer, subject: 'ada' });
			const actions = (
				await db.db.selectFrom('audit_events').select(['action', 'details']).execute()
			).map((e) => e.action);
			expect(actions.filter((a) => a === 'user.identity_link')).toHaveLength(1);
			expect(actions.filter((a) => a === 'user.sign_in')).toHaveLength(2);
			expect(actions).toContain('user.sign_in_refused');
			const withOtp = await signIn(db.db, {
				email: 'ada@uni.example',
				password: oneTimePassword,
				ip: null
			});
			expect(withOtp).toEqual({ ok: false, reason: 'invalid' });
		} finally {
			await db.close();
		}
	});
});
