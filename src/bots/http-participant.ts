import { unflatten } from 'devalue';
import { readChatEvents } from '../lib/chat-events.ts';
import type { FollowUpView } from '../lib/server/follow-ups/follow-ups.service.ts';
import type { ParticipantView } from '../lib/server/participants/participant-view.ts';

// One simulated participant's side of the real HTTP flow, as a browser does it: the page (HTML),
// the page's data as SvelteKit's client fetches it after each step (`__data.json`, devalue), form
// posts to the page's actions (the no-JavaScript path: 303 on success), and the chat endpoint's
// server-sent events. Every request is timed by kind, so a bot run is also a load measurement.

export type RequestKind = 'page' | 'data' | 'action' | 'events' | 'chat_first_token' | 'chat_reply';

export interface Timing {
	kind: RequestKind;
	ms: number;
	status: number;
}

export class BotHttpError extends Error {
	constructor(
		message: string,
		readonly status: number
	) {
		super(message);
	}
}

export interface ChatResult {
	status: number;
	reply: string | null;
	failed: string | null;
	firstTokenMs: number | null;
	totalMs: number;
}

export class HttpParticipant {
	/** The study's cookies this participant's browser holds (its session, its consent nonce). */
	private readonly cookies = new Map<string, string>();
	private requests = 0;
	/** From the last page data: the consent form's nonce and the participant's resume code. */
	nonce = '';
	resumeCode: string | null = null;
	/** Chat messages refused as busy and sent again. */
	busyRetries = 0;
	readonly timings: Timing[] = [];
	private readonly baseUrls: string[];

	/** With several base URLs (app instances), requests go to each in turn, as a load balancer would send them. */
	constructor(
		baseUrls: string | string[],
		readonly slug: string,
		private readonly timeoutMs = 120_000
	) {
		this.baseUrls = Array.isArray(baseUrls) ? baseUrls : [baseUrls];
	}

	/** Continues a participant whose session token is known (the load benchmark prepares people at a step). */
	useSession(token: string): void {
		this.cookies.set('bedside_participant', token);
	}

	private request(kind: RequestKind, path: string, init: RequestInit = {}) {
		return this.requestAt(`/s/${encodeURIComponent(this.slug)}${path}`, init);
	}

	/** A request to any path of the server (a follow-up link lives outside the study's address). */
	private async requestAt(path: string, init: RequestInit = {}) {
		const base = this.baseUrls[this.requests++ % this.baseUrls.length]!;
		const started = performance.now();
		const response = await fetch(`${base}${path}`, {
			...init,
			redirect: 'manual',
			signal: AbortSignal.timeout(this.timeoutMs),
			headers: {
				origin: base,
				...(this.cookies.size > 0 && {
					cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
				}),
				...init.headers
			}
		});
		// As a browser keeps them: set, replaced, or deleted (an empty value or Max-Age=0).
		for (const line of response.headers.getSetCookie()) {
			const [pair = '', ...attributes] = line.split(';');
			const at = pair.indexOf('=');
			const name = pair.slice(0, at).trim();
			const value = pair.slice(at + 1).trim();
			if (!name.startsWith('bedside_')) continue;
			const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
			if (value === '' || expired) this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
		return { response, started };
	}

	private record(kind: RequestKind, started: number, status: number): void {
		this.timings.push({ kind, ms: performance.now() - started, status });
	}

	/** Opens the study page as a browser does (the HTML), with the panel's entry query the first time. */
	async openPage(entry = ''): Promise<number> {
		const { response, started } = await this.request('page', entry, {
			headers: { accept: 'text/html' }
		});
		await response.arrayBuffer();
		this.record('page', started, response.status);
		if (response.status >= 500)
			throw new BotHttpError(`the page answered ${response.status}`, response.status);
		return response.status;
	}

	/** What the page shows now (at the link with `entry`'s query): its load data, as SvelteKit's client reads it. */
	async view(entry = ''): Promise<ParticipantView> {
		const { response, started } = await this.request('data', `/__data.json${entry}`);
		const body = await response.text();
		this.record('data', started, response.status);
		if (response.status !== 200) throw new BotHttpError(`page data: ${body}`, response.status);
		const parsed = JSON.parse(body) as {
			type: string;
			nodes?: ({ type: string; data: unknown } | null)[];
			error?: { message?: string };
		};
		if (parsed.type !== 'data' || !parsed.nodes)
			throw new BotHttpError(`page data: ${parsed.error?.message ?? parsed.type}`, 500);
		const page = parsed.nodes.at(-1);
		if (!page || page.type !== 'data') throw new BotHttpError('page data: no page node', 500);
		const data = unflatten(page.data as number) as {
			view: ParticipantView;
			nonce?: string;
			resumeCode?: string | null;
		};
		this.nonce = data.nonce ?? '';
		if (data.resumeCode) this.resumeCode = data.resumeCode;
		return data.view;
	}

	/** Posts a form to one of the page's actions, as a browser without JavaScript; returns the status (303 = done). */
	async act(action: string, fields: Record<string, string | string[]>): Promise<number> {
		const body = new URLSearchParams();
		for (const [key, value] of Object.entries(fields))
			for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
		const { response, started } = await this.request('action', `?/${action}`, {
			method: 'POST',
			headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
			body
		});
		await response.arrayBuffer();
		this.record('action', started, response.status);
		if (response.status >= 500)
			throw new BotHttpError(`?/${action} answered ${response.status}`, response.status);
		return response.status;
	}

	/** What a follow-up link's page shows (its load data). */
	async followUp(path: string): Promise<FollowUpView> {
		const { response, started } = await this.requestAt(`${path}/__data.json`);
		const body = await response.text();
		this.record('data', started, response.status);
		if (response.status !== 200) throw new BotHttpError(`follow-up data: ${body}`, response.status);
		const parsed = JSON.parse(body) as { nodes?: ({ type: string; data: unknown } | null)[] };
		const page = parsed.nodes?.at(-1);
		if (!page || page.type !== 'data') throw new BotHttpError('follow-up data: no page node', 500);
		return (unflatten(page.data as number) as { view: FollowUpView }).view;
	}

	/** Sends a follow-up's answers as a browser without JavaScript (303 = recorded, or already was). */
	async answerFollowUp(path: string, fields: Record<string, string>): Promise<number> {
		const { response, started } = await this.requestAt(path, {
			method: 'POST',
			headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams(fields)
		});
		await response.arrayBuffer();
		this.record('action', started, response.status);
		if (response.status >= 500)
			throw new BotHttpError(`the follow-up answered ${response.status}`, response.status);
		return response.status;
	}

	/** Posts page telemetry as the page's script does (a paste, the tab hidden). */
	async events(
		list: { kind: string; episode: number | null; detail?: Record<string, unknown> }[]
	): Promise<number> {
		const { response, started } = await this.request('events', '/events', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(list.map((e) => ({ ...e, at: new Date().toISOString() })))
		});
		await response.arrayBuffer();
		this.record('events', started, response.status);
		return response.status;
	}

	/** Sends one chat message (or, without text, sends the unanswered one again) and reads the streamed answer to its end. */
	async chat(episode: number, text?: string): Promise<ChatResult> {
		const first = performance.now();
		let { response, started } = await this.request('chat_reply', '/chat', {
			method: 'POST',
			headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
			body: JSON.stringify({ episode, text })
		});
		// "Busy" (503): nothing was stored; wait as told and send the same message again, as the
		// page does. The latency counts from the first try.
		for (let tries = 1; response.status === 503 && tries < 60; tries++) {
			await response.arrayBuffer();
			this.busyRetries += 1;
			const seconds = Number(response.headers.get('retry-after') ?? '1') || 1;
			await new Promise((r) => setTimeout(r, seconds * 1000 * (1 + Math.random())));
			({ response } = await this.request('chat_reply', '/chat', {
				method: 'POST',
				headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
				body: JSON.stringify({ episode, text })
			}));
		}
		started = first;
		if (!response.ok || !response.body) {
			await response.arrayBuffer();
			this.record('chat_reply', started, response.status);
			if (response.status >= 500)
				throw new BotHttpError(`the chat answered ${response.status}`, response.status);
			return {
				status: response.status,
				reply: null,
				failed: null,
				firstTokenMs: null,
				totalMs: performance.now() - started
			};
		}
		let firstTokenMs: number | null = null;
		let reply: string | null = null;
		let failed: string | null = null;
		for await (const event of readChatEvents(response.body)) {
			if (event.type === 'delta' && firstTokenMs === null) {
				firstTokenMs = performance.now() - started;
				this.timings.push({ kind: 'chat_first_token', ms: firstTokenMs, status: 200 });
			}
			if (event.type === 'reply') reply = event.content;
			if (event.type === 'failed') failed = event.message;
		}
		this.record('chat_reply', started, response.status);
		return {
			status: response.status,
			reply,
			failed,
			firstTokenMs,
			totalMs: performance.now() - started
		};
	}
}
