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
