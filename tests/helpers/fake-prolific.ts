import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A fake of Prolific's researcher API: a real HTTP server holding one study's submissions, doing
// what the real API does to them (transitions, bonus set-up and payment) and recording every call,
// and told to fail for chosen calls: refuse with a status (the panel answered: nothing happened),
// or drop the connection after acting (no answer came back, though it happened). Like the fake
// model, it stands in for what is outside Bedside.

export interface FakeSubmission {
	id: string;
	participant_id: string;
	status: string;
}

export type Failure = { kind: 'refuse'; status: number } | { kind: 'drop_after_acting' };

export interface FakeProlific {
	url: string;
	token: string;
	studyId: string;
	submissions: FakeSubmission[];
	/** Every call received, as "METHOD path" with its JSON body. */
	calls: { method: string; path: string; body: Record<string, unknown> | null }[];
	/** Bonuses paid: submission id → total amount. */
	paid: Map<string, number>;
	/** Fail the nth call (counted from now, 1 = the next) whose "METHOD path" matches. */
	failOn(pattern: RegExp, nth: number, failure: Failure): void;
	close(): Promise<void>;
}

export async function startFakeProlific(): Promise<FakeProlific> {
	const failures: { pattern: RegExp; remaining: number; failure: Failure }[] = [];
	const payments = new Map<string, { submission: string; amount: number }[]>();
	const sockets = new Set<import('node:net').Socket>();
	let nextPayment = 1;
	const fake: FakeProlific = {
		url: '',
		token: 'fake-prolific-token-0123456789',
		studyId: '6750aa00bb11cc22dd33ee44',
		submissions: [],
		calls: [],
		paid: new Map(),
		failOn: (pattern, nth, failure) => failures.push({ pattern, remaining: nth, failure }),
		close: () =>
			new Promise((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			})
	};

	function failureFor(key: string): Failure | null {
		for (const f of failures) {
			if (!f.pattern.test(key) || f.remaining <= 0) continue;
			f.remaining -= 1;
			if (f.remaining === 0) return f.failure;
		}
		return null;
	}

	const server = http.createServer(async (req, res) => {
		let text = '';
		for await (const chunk of req) text += chunk;
		const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
		const url = new URL(req.url ?? '/', 'http://x');
		const key = `${req.method} ${url.pathname}`;
		fake.calls.push({ method: req.method ?? '', path: url.pathname, body });
		const send = (status: number, value: unknown) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(value));
		};
		if (req.headers.authorization !== `Token ${fake.token}`)
			return send(401, { error: { detail: 'Invalid token' } });
		const failure = failureFor(key);
		if (failure?.kind === 'refuse') return send(failure.status, { error: { detail: 'refused' } });
		const answer = (status: number, value: unknown) =>
			failure?.kind === 'drop_after_acting' ? res.socket?.destroy() : send(status, value);

		let m: RegExpExecArray | null;
		if ((m = /^GET \/api\/v1\/studies\/([^/]+)\/submissions\/$/.exec(key))) {
			if (m[1] !== fake.studyId) return send(404, { error: { detail: 'Not found' } });
			// Two pages, as the real API pages its lists.
			const page = Number(url.searchParams.get('page') ?? '1');
			const size = Math.ceil(fake.submissions.length / 2) || 1;
			const results = fake.submissions.slice((page - 1) * size, page * size);
			const next =
				page * size < fake.submissions.length
					? `${fake.url}${url.pathname}?page=${page + 1}`
					: null;
			return answer(200, {
				results,
				_links: { next: { href: next } },
				meta: { count: results.length }
			});
		}
		if ((m = /^POST \/api\/v1\/submissions\/([^/]+)\/transition\/$/.exec(key))) {
			const s = fake.submissions.find((x) => x.id === m![1]);
			if (!s) return send(404, { error: { detail: 'Not found' } });
			const action = body?.action;
			if (s.status !== 'AWAITING REVIEW')
				return send(400, {
					error: { detail: `cannot ${String(action)} a ${s.status} submission` }
				});
			if (action === 'APPROVE') s.status = 'APPROVED';
			else if (action === 'REJECT') {
				if (typeof body?.message !== 'string' || body.message.length < 100)
					return send(400, { error: { detail: 'message must be at least 100 characters' } });
				s.status = 'REJECTED';
			} else if (action === 'COMPLETE' && typeof body?.completion_code === 'string')
				s.status = 'SCREENED OUT';
			else return send(400, { error: { detail: 'unknown action' } });
			return answer(200, { id: s.id, status: s.status, participant: s.participant_id });
		}
		if (key === 'POST /api/v1/submissions/bonus-payments/') {
			const lines = String(body?.csv_bonuses ?? '')
				.split('\n')
				.filter(Boolean);
			const list = lines.map((l) => {
				const [submission, amount] = l.split(',');
				return { submission: submission!, amount: Number(amount) };
			});
			if (list.some((b) => !fake.submissions.some((s) => s.id === b.submission)))
				return send(400, { error: { detail: 'unknown submission' } });
			const id = `bonus-${nextPayment++}`;
			payments.set(id, list);
			return answer(201, {
				id,
				study: body?.study_id,
				amount: list.reduce((a, b) => a + b.amount, 0)
			});
		}
		if ((m = /^POST \/api\/v1\/bulk-bonus-payments\/([^/]+)\/pay\/$/.exec(key))) {
			const list = payments.get(m[1]!);
			if (!list) return send(404, { error: { detail: 'Not found' } });
			for (const b of list)
				fake.paid.set(b.submission, (fake.paid.get(b.submission) ?? 0) + b.amount);
			return answer(202, 'being processed');
		}
		return send(404, { error: { detail: `no route ${key}` } });
	});
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return fake;
}
