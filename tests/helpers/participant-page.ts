import type { Page } from 'playwright-core';

/**
 * Clicks a button and waits for the page it leads to: the redirect's target (its data, when an
 * enhanced form handles it, or its document for a plain post), or a refusal shown in place.
 */
export async function submit(page: Page, name: string | RegExp): Promise<void> {
	await Promise.all([
		page.waitForResponse(
			(r) =>
				r.status() !== 303 &&
				(r.url().includes('__data.json') || r.request().resourceType() === 'document')
		),
		page.getByRole('button', { name }).click()
	]);
}

/** Answers the example protocol's screening questions as an eligible participant would. */
export async function answerScreening(page: Page): Promise<void> {
	await page
		.getByRole('group', { name: /18 years old/ })
		.getByLabel('Yes')
		.check();
	await page
		.getByRole('group', { name: /doctor, nurse/ })
		.getByLabel('No')
		.check();
	await page.getByLabel('Monthly or more often').check();
}

/**
 * Answers a study's consent form over plain HTTP, as a browser without JavaScript would: opens the
 * link (with its panel id), then posts the form with the page's nonce. Returns the answer (a 303
 * when it was taken) and the participant's session cookie, if one was set.
 */
export async function consentOverHttp(
	baseUrl: string,
	slug: string,
	pid: string,
	agree: 'yes' | 'no'
): Promise<{ status: number; cookie: string | undefined }> {
	const entry = `?PROLIFIC_PID=${pid}`;
	const page = await fetch(`${baseUrl}/s/${slug}${entry}`);
	const nonce = /name="nonce" value="([a-z0-9]+)"/.exec(await page.text())?.[1] ?? '';
	const posted = await fetch(`${baseUrl}/s/${slug}${entry}&/consent`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: baseUrl,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'text/html'
		},
		body: new URLSearchParams({ entry, agree, nonce })
	});
	const cookie = /bedside_participant=[^;]+/.exec(posted.headers.get('set-cookie') ?? '')?.[0];
	return { status: posted.status, cookie };
}
