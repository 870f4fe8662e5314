import { isDatabaseUnavailable } from './unavailable.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a write that must not be lost to a short database outage (the reply a model has just
 * generated, the record that a call finished): while the database cannot be reached, it is tried
 * again, with growing pauses, for up to `withinMs`. Any other error, or an outage that outlasts the
 * window, is thrown as it is.
 */
export async function whenDatabaseAnswers<T>(
	work: () => Promise<T>,
	withinMs = 60_000
): Promise<T> {
	const deadline = Date.now() + withinMs;
	for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
		try {
			return await work();
		} catch (error) {
			if (!isDatabaseUnavailable(error) || Date.now() + pause > deadline) throw error;
			await sleep(pause);
		}
	}
}
