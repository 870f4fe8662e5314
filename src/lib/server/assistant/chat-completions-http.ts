import http from 'node:http';
import https from 'node:https';
import { ProviderError } from './provider.ts';

// The HTTP side of an OpenAI-compatible endpoint: POST /chat/completions, streamed as server-sent
// events, over Node's own HTTP client with kept-alive connections. It replaced the official SDK
// on fetch: a streamed reply arrives as one network read per token, and the SDK's layers (fetch,
// web streams, an async generator per chunk) cost 14–18 ms of CPU per 26-token reply on our
// two-core benchmark machine against about 6 ms here: at 500 participants in conversation that
// was a third of the server's CPU (docs/deployment.md, bench/results.md).

/** One streamed chunk (or a whole non-streamed answer, read as one chunk), as far as we use it. */
export interface CompletionChunk {
	model?: string;
	system_fingerprint?: string | null;
	usage?: { prompt_tokens: number; completion_tokens: number } | null;
	choices?: {
		delta?: { content?: string | null };
		message?: { content?: string | null };
		finish_reason?: string | null;
	}[];
	error?: { message?: string } | string;
}

export interface CompletionEndpoint {
	baseUrl: string;
	apiKey?: string;
}

/** Longest error body read from an endpoint that refused (its first line is kept). */
const MAX_ERROR_BYTES = 64 * 1024;
/** Longest non-streamed answer read (a streamed reply is cut by the provider as it arrives). */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** Kept-alive connections per endpoint, reused by every conversation in this process. */
export class ChatCompletionsClient {
	private readonly url: URL;
	private readonly agent: http.Agent;
	private readonly transport: typeof http | typeof https;

	constructor(private readonly endpoint: CompletionEndpoint) {
		this.url = new URL(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`);
		if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
			throw new Error(`the endpoint must be an http(s) address, not ${this.url.protocol}`);
		this.transport = this.url.protocol === 'https:' ? https : http;
		this.agent = new this.transport.Agent({ keepAlive: true });
	}

	/**
	 * Sends `body` and hands each chunk to `onChunk` as it arrives; `onChunk` returns false to stop
	 * reading (the connection is then closed). Resolves when the stream ends; throws ProviderError
	 * for a refusal, an unreachable endpoint, a broken stream or malformed JSON.
	 */
	async stream(
		body: Record<string, unknown>,
		signal: AbortSignal,
		onChunk: (chunk: CompletionChunk) => boolean | void
	): Promise<void> {
		const payload = JSON.stringify(body);
		try {
			await this.attempt(payload, signal, onChunk);
		} catch (e) {
			// A kept-alive connection the endpoint closed while idle fails before anything was sent
			// on it: the request never reached the model, so it goes once more on a new connection.
			if (!(e instanceof StaleConnectionError)) throw e;
			await this.attempt(payload, signal, onChunk);
		}
	}

	private attempt(
		payload: string,
		signal: AbortSignal,
		onChunk: (chunk: CompletionChunk) => boolean | void
	): Promise<void> {
		return new Promise<void>((resolve, reject) => {
			let settled = false;
			const finish = (error?: Error) => {
				if (settled) return;
				settled = true;
				signal.removeEventListener('abort', abort);
				if (error) reject(error);
				else resolve();
			};
			const request = this.transport.request(this.url, {
				method: 'POST',
				agent: this.agent,
				headers: {
					'content-type': 'application/json',
					accept: 'text/event-stream',
					'content-length': Buffer.byteLength(payload),
					...(this.endpoint.apiKey && { authorization: `Bearer ${this.endpoint.apiKey}` })
				}
			});
			const abort = () => {
				request.destroy();
				finish(new ProviderError('timed out', true));
			};
			if (signal.aborted) return abort();
			signal.addEventListener('abort', abort, { once: true });

			let answered = false;
			request.on('error', (e: NodeJS.ErrnoException) => {
				if (answered) return; // the response's own handlers report it
				if (request.reusedSocket && e.code === 'ECONNRESET') finish(new StaleConnectionError());
				else
					finish(new ProviderError(`could not reach the endpoint (${e.code ?? e.message})`, true));
			});
			request.on('response', (response) => {
				answered = true;
				const status = response.statusCode ?? 0;
				response.setEncoding('utf8');
				if (status < 200 || status >= 300) return refused(response, status, finish);
				const type = String(response.headers['content-type'] ?? '');
				if (type.includes('application/json')) return wholeAnswer(response, onChunk, finish);
				const events = new EventStreamParser((data) => {
					if (data === '[DONE]') return false;
					let chunk: CompletionChunk;
					try {
						chunk = JSON.parse(data) as CompletionChunk;
					} catch (e) {
						throw new ProviderError(
							`the endpoint sent malformed JSON (${(e as Error).message})`,
							true
						);
					}
					if (chunk.error)
						throw new ProviderError(
							`the endpoint reported an error: ${errorText(chunk.error)}`,
							true
						);
					return onChunk(chunk) !== false;
				});
				response.on('data', (text: string) => {
					if (settled) return;
					try {
						if (!events.push(text)) {
							response.destroy();
							finish();
						}
					} catch (e) {
						response.destroy();
						finish(e as Error);
					}
				});
				response.on('end', () => finish());
				// A connection that closes before the stream's end: the reply was cut off.
				response.on('close', () => {
					if (!response.complete)
						finish(new ProviderError('the stream broke: the connection closed mid-reply', true));
				});
			});
			request.end(payload);
		});
	}
}

/** A kept-alive connection found closed before the request was sent on it. */
class StaleConnectionError extends Error {}

/** A refusal (4xx, 5xx): its status, the first line of its message, and any Retry-After. */
function refused(
	response: http.IncomingMessage,
	status: number,
	finish: (error: Error) => void
): void {
	let text = '';
	response.on('data', (piece: string) => {
		if (text.length < MAX_ERROR_BYTES) text += piece;
	});
	const done = () => {
		let message = text.trim();
		try {
			const parsed = JSON.parse(text) as {
				error?: { message?: string } | string;
				message?: string;
			};
			message = parsed.error ? errorText(parsed.error) : (parsed.message ?? message);
		} catch {
			// not JSON: the text itself
		}
		const retryable = status === 408 || status === 429 || status >= 500;
		const retryAfter = retryAfterMs(headerValue(response.headers['retry-after']));
		finish(
			new ProviderError(
				`the endpoint answered ${status}: ${firstLine(message || http.STATUS_CODES[status] || '')}`,
				retryable,
				status,
				retryAfter
			)
		);
	};
	response.on('end', done);
	response.on('close', done);
}

/** An endpoint that answered the whole completion as JSON, although a stream was asked for. */
function wholeAnswer(
	response: http.IncomingMessage,
	onChunk: (chunk: CompletionChunk) => boolean | void,
	finish: (error?: Error) => void
): void {
	let text = '';
	response.on('data', (piece: string) => {
		text += piece;
		if (text.length > MAX_JSON_BYTES) {
			response.destroy();
			finish(new ProviderError('the endpoint sent an answer larger than 8 MB', true));
		}
	});
	response.on('end', () => {
		let answer: CompletionChunk;
		try {
			answer = JSON.parse(text) as CompletionChunk;
		} catch (e) {
			return finish(
				new ProviderError(`the endpoint sent malformed JSON (${(e as Error).message})`, true)
			);
		}
		const choice = answer.choices?.[0];
		onChunk({
			...answer,
			choices: [
				{ delta: { content: choice?.message?.content ?? '' }, finish_reason: choice?.finish_reason }
			]
		});
		finish();
	});
	response.on('close', () => {
		if (!response.complete)
			finish(new ProviderError('the stream broke: the connection closed mid-reply', true));
	});
}

/**
 * Server-sent events, incrementally (the WHATWG parsing rules for the `data` field: lines end in
 * LF, CR or CRLF; a blank line ends an event; comments and other fields are ignored). `onData`
 * gets each event's data and returns false to stop.
 */
export class EventStreamParser {
	private buffer = '';
	private data: string[] = [];

	constructor(private readonly onData: (data: string) => boolean) {}

	/** Feeds text; false once `onData` asked to stop. */
	push(text: string): boolean {
		this.buffer += text;
		let start = 0;
		for (;;) {
			const lf = this.buffer.indexOf('\n', start);
			const cr = this.buffer.indexOf('\r', start);
			let end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
			if (end < 0) break;
			// A CR at the very end may be the first half of a CRLF: wait for the next piece.
			if (end === cr && cr === this.buffer.length - 1) break;
			const line = this.buffer.slice(start, end);
			if (end === cr && this.buffer[cr + 1] === '\n') end += 1;
			start = end + 1;
			if (!this.line(line)) {
				this.buffer = '';
				return false;
			}
		}
		this.buffer = this.buffer.slice(start);
		return true;
	}

	private line(line: string): boolean {
		if (line === '') {
			if (this.data.length === 0) return true;
			const data = this.data.join('\n');
			this.data = [];
			return this.onData(data);
		}
		if (line.startsWith(':')) return true;
		const colon = line.indexOf(':');
		const field = colon < 0 ? line : line.slice(0, colon);
		if (field !== 'data') return true;
		let value = colon < 0 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		this.data.push(value);
		return true;
	}
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds, if there is a usable one. */
export function retryAfterMs(
	value: string | null | undefined,
	now = Date.now()
): number | undefined {
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const errorText = (e: { message?: string } | string) =>
	typeof e === 'string' ? e : (e.message ?? JSON.stringify(e));
const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);
