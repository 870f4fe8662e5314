import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createPgTestDatabase, databaseKinds } from '../helpers/database.ts';
import { startServer, tempDir, type RunningServer } from '../helpers/server.ts';

// With an endpoint configured, the demo keeps its LLM arm (without one it is seeded scripted).
// Nothing here chats, so the endpoint is never called.
const LLM_ENV = { BEDSIDE_LLM_BASE_URL: 'http://127.0.0.1:9/v1' };

let browser: Browser;
beforeAll(async () => {
	browser = await launchBrowser();
});
afterAll(() => browser?.close());

describe.each(databaseKinds())('a researcher edits a draft and preregisters it (%s)', (kind) => {
	let server: RunningServer;
	let drop = async () => {};
	let page: Page;

	beforeAll(async () => {
		if (kind === 'pg') {
			const created = await createPgTestDatabase({ migrated: false });
			drop = created.drop;
			server = await startServer({ databaseUrl: created.url, env: LLM_ENV });
		} else {
			server = await startServer({ dataDir: tempDir('bedside-researcher-'), env: LLM_ENV });
		}
		page = await browser.newPage();
	});
	afterAll(async () => {
		await page?.close();
		await server?.stop('SIGKILL');
		await drop();
	});

	it('signs in with the one-time password printed at first start, and must choose a new one', async () => {
		const [, email, otp] = /as (\S+) with the one-time password (\S+)/.exec(server.output()) ?? [];
		expect(email).toBe('admin@bedside.local');
		await page.goto(`${server.url}/studies`);
		expect(new URL(page.url()).pathname).toBe('/login');
		// Type only once the page is hydrated: hydration resets an input's value attribute.
		await page.waitForLoadState('networkidle');

		await page.getByLabel('Email').fill(email!);
		await page.getByLabel('Password').fill('not the password');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page.getByRole('alert').textContent()).resolves.toMatch(/do not match an account/);

		await page.getByLabel('Password').fill(otp!);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL('**/account/password');
		await page.getByLabel('Current password').fill(otp!);
		await page.getByLabel('New password', { exact: true }).fill('correct horse battery');
		await page.getByLabel('New password again').fill('correct horse battery');
		await page.getByRole('button', { name: 'Change password' }).click();
		await page.waitForURL('**/studies');
		await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('My studies');
	});

	it('edits the draft: an invalid value is refused with its path, a valid one becomes version 2', async () => {
		await page.getByRole('link', { name: /Where should I go\?/ }).click();
		await page.waitForURL('**/studies/triage-demo');
		await expect(page.getByTestId('study-status').textContent()).resolves.toBe('draft');
		await page.getByRole('link', { name: 'Edit the draft' }).click();
		await page.waitForURL('**/studies/triage-demo/edit');

		// The editor computes the power of the design as it is edited (2 episodes, ICC 0.2).
		const power = page.getByTestId('editor-design-power');
		await expect.poll(() => power.textContent()).toMatch(/design effect 1\.20/);
		const episodes = page.getByLabel('Scenarios per participant (episodes)');
		await episodes.fill('1');
		await expect
			.poll(() => power.textContent())
			.toMatch(/1 episode\(s\) each.*design effect 1\.00/s);
		await episodes.fill('2');
		await expect.poll(() => power.textContent()).toMatch(/design effect 1\.20/);

		const arm = page.getByTestId('arm-1');
		await arm.getByLabel('Temperature').fill('5');
		await page.getByRole('button', { name: 'Save as a new version' }).first().click();
		const problems = page.locator('#problems');
		await expect(problems.textContent()).resolves.toMatch(
			/arms\[1\]\.assistant\.temperature: must be ≤ 2/
		);
		// What was typed is still there, and marked.
		await expect(arm.getByLabel('Temperature').inputValue()).resolves.toBe('5');
		await expect(arm.getByLabel('Temperature').getAttribute('aria-invalid')).resolves.toBe('true');

		await arm.getByLabel('Temperature').fill('0.3');
		await arm.getByLabel('Label (researchers only)').fill('LLM assistant (cooler)');
		await page.getByLabel('What changed and why').first().fill('lower temperature after the pilot');
		await page.getByRole('button', { name: 'Save as a new version' }).first().click();
		await page.waitForURL('**/studies/triage-demo?saved=2');
		const history = await page.locator('.versions').textContent();
		expect(history).toMatch(/Version 2/);
		expect(history).toMatch(/lower temperature after the pilot/);
		expect(history).toContain('~ arms[1].assistant.temperature: 0.7 → 0.3');
		expect(history).toContain(
			'~ arms[1].label: "LLM assistant (general health prompt)" → "LLM assistant (cooler)"'
		);
	});

	it('preregisters version 2, after which the draft is locked and the registry shows it', async () => {
		await page.getByRole('button', { name: 'Preregister version 2' }).click();
		// Irreversible: asked first, with what it locks.
		await expect(page.getByRole('alertdialog').textContent()).resolves.toMatch(
			/locks this protocol version/
		);
		await page.getByRole('button', { name: 'Yes, preregister version 2' }).click();
		await page.getByText(/Preregistered protocol version 2 \(SHA-256 [0-9a-f]{64}\)/).waitFor();
		await expect(page.getByTestId('study-status').textContent()).resolves.toBe('preregistered');
		expect(await page.getByRole('link', { name: 'Edit the draft' }).count()).toBe(0);

		const doc = await (
			await page.request.get(`${server.url}/studies/triage-demo/preregistration.json`)
		).json();
		expect(doc.registrations).toHaveLength(1);
		expect(doc.registrations[0].protocol_version).toBe(2);
		expect(doc.protocol.arms[1].assistant.temperature).toBe(0.3);
		// The design's power (2 episodes each, ICC 0.2) is kept with the registration and shown.
		expect(doc.registrations[0].design_power).toMatchObject({
			episodes_per_participant: 2,
			icc: 0.2,
			design_effect: 1.2,
			simulations: 1000
		});
		await expect(page.getByTestId('design-power').textContent()).resolves.toMatch(
			/Power of the design: 0\.\d{3} .*design\s+effect\s+1\.20/s
		);

		// Editing now means amending: without a reason it is refused, with one it is registered.
		await page.goto(`${server.url}/studies/triage-demo/edit`);
		await expect(page.locator('.notice').textContent()).resolves.toMatch(
			/protocol is locked.*amendment/s
		);
		await page.getByTestId('arm-1').getByLabel('Max turns').fill('8');
		await page
			.getByLabel(/What changed and why/)
			.first()
			.fill('   ');
		await page.getByRole('button', { name: 'Register the amendment' }).first().click();
		await expect(page.locator('#problems').textContent()).resolves.toMatch(
			/reason: an amendment needs a reason/
		);
		await page
			.getByLabel(/What changed and why/)
			.first()
			.fill('participants needed fewer turns in the pilot');
		await page.getByRole('button', { name: 'Register the amendment' }).first().click();
		await page.waitForURL('**/studies/triage-demo?saved=3');
		const amended = await (
			await page.request.get(`${server.url}/studies/triage-demo/preregistration.json`)
		).json();
		expect(amended.registrations.map((r: { kind: string }) => r.kind)).toEqual([
			'initial',
			'amendment'
		]);
		expect(amended.registrations[1].previous_sha256).toBe(doc.registrations[0].sha256);
		expect(amended.registrations[1].reason).toBe('participants needed fewer turns in the pilot');
		expect(amended.protocol.arms[1].assistant.max_turns).toBe(8);

		const anonymous = await browser.newPage();
		await anonymous.goto(`${server.url}/registry`);
		await expect(
			anonymous.getByRole('row', { name: /Where should I go\?/ }).textContent()
		).resolves.toMatch(/preregistered.*bean-triage-scenarios\/decision_mediation/);
		await anonymous.getByRole('link', { name: /Where should I go\?/ }).click();
		const registry = (await anonymous.locator('pre.document').textContent()) ?? '';
		expect(registry).toContain(amended.registrations[1].sha256);
		expect(registry).toMatch(/## Power of the design\n\n.*expected ICC 0\.2/);
		expect(registry).toMatch(/by 1000 simulated studies \(seed \d+\)/);
		// …but the researcher pages are not theirs.
		await anonymous.goto(`${server.url}/studies/triage-demo`);
		expect(new URL(anonymous.url()).pathname).toBe('/login');
		await anonymous.close();
	});

	it('signs out: the session ends on the server too', async () => {
		await page.goto(`${server.url}/studies`);
		await page.getByRole('button', { name: /Sign out/ }).click();
		await page.waitForURL(`${server.url}/`);
		await page.goto(`${server.url}/studies`);
		expect(new URL(page.url()).pathname).toBe('/login');
		// Type only once the page is hydrated: hydration resets an input's value attribute.
		await page.waitForLoadState('networkidle');
	});

	it('lets the admin invite an analyst, who signs in with the one-time password and sees only that study', async () => {
		await page.getByLabel('Email').fill('admin@bedside.local');
		await page.getByLabel('Password').fill('correct horse battery');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL('**/studies');
		await page.getByRole('link', { name: 'Accounts' }).click();
		await page.waitForURL('**/admin/users');
		await page.waitForLoadState('networkidle');
		await page.getByLabel('Email').fill(`analyst-${kind}@example.org`);
		await page.getByLabel('Study (optional)').selectOption('triage-demo');
		await page.getByLabel('Role in that study').selectOption('analyst');
		await page.getByRole('button', { name: 'Invite' }).click();
		const otp = (await page.locator('[data-testid="invited"] code').textContent())!.trim();
		expect(otp).toMatch(/^\S{12,}$/);
		await page.getByRole('button', { name: /Sign out/ }).click();
		await page.waitForURL(`${server.url}/`);

		await page.goto(`${server.url}/login`);
		await page.waitForLoadState('networkidle');
		await page.getByLabel('Email').fill(`analyst-${kind}@example.org`);
		await page.getByLabel('Password').fill(otp);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL('**/account/password');
		await page.getByLabel('Current password').fill(otp);
		await page.getByLabel('New password', { exact: true }).fill('analyst pass phrase');
		await page.getByLabel('New password again').fill('analyst pass phrase');
		await page.getByRole('button', { name: 'Change password' }).click();
		await page.waitForURL('**/studies');
		await expect(page.getByRole('link', { name: /Where should I go\?/ }).count()).resolves.toBe(1);
		// An analyst neither edits nor manages accounts.
		expect((await page.goto(`${server.url}/admin/users`))?.status()).toBe(403);
		expect((await page.goto(`${server.url}/studies/triage-demo/edit`))?.status()).toBe(403);
	});
});
