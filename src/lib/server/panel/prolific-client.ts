// Prolific's researcher API, the few calls Bedside makes: list a study's submissions, transition
// one (approve, reject, complete with a screen-out code), set up and pay bonuses. Bedside creates
// nothing on the panel by itself. Every failure says whether the panel answered (it refused:
// nothing happened) or not (the request may or may not have taken effect).

export interface ProlificSubmission {
	id: string;
	participantId: string;
	status: string;
}

export class ProlificError extends Error {
	constructor(
		message: string,
		/** The panel answered with this status (a refusal); null: no answer came back. */
		readonly status: number | null
	) {
		super(message);
		this.name = 'ProlificError';
	}
}

const TIMEOUT_MS = 15_000;
const MAX_PAGES = 200;

export class ProlificClient {
	constructor(
		private readonly baseUrl: string,
		private readonly token: string
	) {}

	private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
		let response: Response;
		try {
			response = await fetch(new URL(path, this.baseUrl), {
				method,
				headers: {
					authorization: `Token ${this.token}`,
					...(body !== undefined && { 'content-type': 'application/json' })
				},
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(TIMEOUT_MS)
			});
		} catch (e) {
			throw new ProlificError(`Prolific did not answer (${(e as Error).message})`, null);
		}
		const text = await response.text().catch(() => '');
		if (!response.ok)
			throw new ProlificError(
				`Prolific refused ${method} ${path.replace(/\?.*/, '')}: HTTP ${response.status} ${text.slice(0, 300)}`,
				response.status
			);
		try {
			return text ? JSON.parse(text) : null;
		} catch {
			return text;
		}
	}

	/** Every submission of a Prolific study (following the pages the API hands back). */
	async submissions(studyId: string): Promise<ProlificSubmission[]> {
		const out: ProlificSubmission[] = [];
		let path: string | null = `/api/v1/studies/${encodeURIComponent(studyId)}/submissions/`;
		for (let page = 0; path && page < MAX_PAGES; page++) {
			const body = (await this.call('GET', path)) as {
				results?: { id?: unknown; participant_id?: unknown; status?: unknown }[];
				_links?: { next?: { href?: string | null } };
			};
			for (const r of body?.results ?? [])
				if (typeof r.id === 'string' && typeof r.participant_id === 'string')
					out.push({ id: r.id, participantId: r.participant_id, status: String(r.status ?? '') });
			const next = body?._links?.next?.href;
			path = next
				? new URL(next, this.baseUrl).pathname + new URL(next, this.baseUrl).search
				: null;
		}
		return out;
	}

	approve(submissionId: string): Promise<unknown> {
		return this.transition(submissionId, { action: 'APPROVE' });
	}

	reject(submissionId: string, message: string): Promise<unknown> {
		return this.transition(submissionId, {
			action: 'REJECT',
			message,
			rejection_category: 'FAILED_CHECK'
		});
	}

	/** Screens a submission out through the study's screen-out completion code. */
	screenOut(submissionId: string, code: string): Promise<unknown> {
		return this.transition(submissionId, { action: 'COMPLETE', completion_code: code });
	}

	private transition(submissionId: string, body: Record<string, string>): Promise<unknown> {
		return this.call(
			'POST',
			`/api/v1/submissions/${encodeURIComponent(submissionId)}/transition/`,
			body
		);
	}

	/** Sets up (does not pay) bonuses; returns the bulk payment's id. */
	async setUpBonuses(studyId: string, bonuses: { submissionId: string; amount: number }[]) {
		const body = (await this.call('POST', '/api/v1/submissions/bonus-payments/', {
			study_id: studyId,
			csv_bonuses: bonuses.map((b) => `${b.submissionId},${b.amount.toFixed(2)}`).join('\n')
		})) as { id?: unknown };
		if (typeof body?.id !== 'string')
			throw new ProlificError('Prolific set up the bonuses but returned no payment id', 200);
		return body.id;
	}

	/** Pays a set-up bulk bonus. Not idempotent on the panel: call once per payment id. */
	async payBonuses(paymentId: string): Promise<void> {
		await this.call(
			'POST',
			`/api/v1/bulk-bonus-payments/${encodeURIComponent(paymentId)}/pay/`,
			{}
		);
	}
}
