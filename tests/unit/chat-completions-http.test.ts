import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	ChatCompletionsClient,
	EventStreamParser,
	type CompletionChunk
} from '../../src/lib/server/assistant/chat-completions-http.ts';
import { ProviderError } from '../../src/lib/server/assistant/provider.ts';

// The HTTP client of OpenAI-compatible endpoints against a real server that answers in each way
// an endpoint can: streamed in odd pieces, refusing, as one JSON answer, cut off, or garbled.

const parse = (pieces: string[]) => {
	const events: string[] = [];
	const parser = new EventStreamParser((d) => (events.push(d), true));
	for (const p of pieces) parser.push(p);
	return events;
};

describe('the event-stream parser', () => {
	it('reads events split anywhere, with LF, CR or CRLF line ends, comments and other fields', () => {
		const text =
			': hello\r\nevent: x\r\ndata: {"a":1}\r\n\r\ndata:two\rdata: lines\r\rid: 3\ndata: 3\n\n';
		const whole = parse([text]);
		expect(whole).toEqual(['{"a":1}', 'two\nlines', '3']);
		// Every split point, including between a CR and its LF, gives the same events.
		for (let i = 1; i < text.length; i++)
			expect(parse([text.slice(0, i), text.slice(i)]), `split at ${i}`).toEqual(whole);
	});

	it('stops when told, and ignores an event left unfinished', () => {
		const seen: string[] = [];
		const parser = new EventStreamParser((d) => (seen.push(d), d !== 'stop'));
		expect(parser.push('data: a\n\ndata: stop\n\ndata: never\n\n')).toBe(false);
		expect(seen).toEqual(['a', 'stop']);
		expect(parse(['data: half'])).toEqual([]);
	});
});

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

describe('ChatCompletionsClient', () => {
	let server: http.Server;
	let url: string;
	let answer: Answer;
	const bodies: unknown[] = [];
	const headers: http.IncomingHttpHeaders[] = [];

	beforeAll(async () => {
		server = http.createServer(async (req, res) => {
			let raw = '';
			for await (const piece of req) raw += piece;
			bodies.push(JSON.parse(raw));
			headers.push(req.headers);
			await answer(req, res);
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
	});
	afterAll(() => new Promise<void>((r) => server.close(() => r())));

	const collect = async (
		client = new ChatCompletionsClient({ baseUrl: url, apiKey: 'sk-test' })
	) => {
		const chunks: CompletionChunk[] = [];
		await client.stream({ model: 'm' }, new AbortController().signal, (c) => {
			chunks.push(c);
		});
		return chunks;
	};
	const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
	const failure = (p: Promise<unknown>) =>
		p.then(
			() => {
				throw new Error('expected a failure');
			},
			(e: unknown) => e as ProviderError
		);

	it('posts to /chat/completions with the key and reads a stream sent a byte at a time', async () => {
		const text =
			sse({ model: 'served', choices: [{ delta: { role: 'assistant', content: 'Hé' } }] }) +
			sse({ choices: [{ delta: { content: ' là' }, finish_reason: 'stop' }] }) +
			'data: [DONE]\n\n';
		answer = async (req, res) => {
			expect(req.url).toBe('/v1/chat/completions');
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			// Byte by byte, splitting the two-byte é across writes.
			for (const byte of Buffer.from(text)) {
				res.write(Buffer.from([byte]));
				await new Promise((r) => setImmediate(r));
			}
			res.end();
		};
		const chunks = await collect();
		expect(chunks.map((c) => c.choices?.[0]?.delta?.content).join('')).toBe('Hé là');
		expect(chunks[0]!.model).toBe('served');
		expect(headers.at(-1)!.authorization).toBe('Bearer sk-test');
		expect(bodies.at(-1)).toEqual({ model: 'm' });
	});

	it('reports a refusal with its status, its message and its Retry-After', async () => {
		answer = (_req, res) => {
			res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
			res.end(JSON.stringify({ error: { message: 'slow down\nplease' } }));
		};
		const e = await failure(collect());
		expect(e).toBeInstanceOf(ProviderError);
		expect(e.message).toBe('the endpoint answered 429: slow down');
		expect([e.status, e.retryable, e.retryAfterMs]).toEqual([429, true, 7000]);
		answer = (_req, res) => {
			res.writeHead(400, { 'content-type': 'text/plain' });
			res.end('bad request body');
		};
		const bad = await failure(collect());
		expect([bad.message, bad.retryable]).toEqual([
			'the endpoint answered 400: bad request body',
			false
		]);
	});

	it('reads an endpoint that answers the whole completion as JSON', async () => {
		answer = (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(
				JSON.stringify({
					model: 'whole',
					choices: [{ message: { content: 'All at once.' }, finish_reason: 'stop' }],
					usage: { prompt_tokens: 3, completion_tokens: 4 }
				})
			);
		};
		const [chunk] = await collect();
		expect(chunk).toMatchObject({
			model: 'whole',
			usage: { prompt_tokens: 3, completion_tokens: 4 },
			choices: [{ delta: { content: 'All at once.' }, finish_reason: 'stop' }]
		});
	});

	it('fails, retryably, on a stream cut off, malformed JSON, an error event, or no endpoint', async () => {
		answer = (req, res) => {
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			res.write(sse({ choices: [{ delta: { content: 'Par' } }] }));
			setTimeout(() => req.socket.destroy(), 20);
		};
		expect((await failure(collect())).message).toMatch(/^the stream broke/);
		answer = (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			res.end('data: {"choices": [\n\n');
		};
		expect((await failure(collect())).message).toMatch(/^the endpoint sent malformed JSON/);
		answer = (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			res.end(sse({ error: { message: 'overloaded' } }));
		};
		expect((await failure(collect())).message).toBe('the endpoint reported an error: overloaded');
		const nowhere = new ChatCompletionsClient({ baseUrl: 'http://127.0.0.1:9/v1' });
		const e = await failure(collect(nowhere));
		expect([e.message, e.retryable]).toEqual(['could not reach the endpoint (ECONNREFUSED)', true]);
	});

	it('stops reading when told, and a timeout aborts a request that hangs', async () => {
		answer = async (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			for (let i = 0; i < 1000 && !res.destroyed; i++) {
				res.write(sse({ choices: [{ delta: { content: `${i} ` } }] }));
				await new Promise((r) => setTimeout(r, 1));
			}
			res.end();
		};
		const client = new ChatCompletionsClient({ baseUrl: url });
		let n = 0;
		await client.stream({}, new AbortController().signal, () => ++n < 3);
		expect(n).toBe(3);

		answer = () => {}; // never answers
		const e = await failure(client.stream({}, AbortSignal.timeout(100), () => {}));
		expect([e.message, e.retryable]).toEqual(['timed out', true]);
	});

	it('sends again on a new connection when a kept-alive one turns out closed', async () => {
		// The race of keep-alive: the endpoint closes an idle connection just as the client sends on
		// it. Here the endpoint drops the second request on any connection, answering nothing.
		const served = new WeakMap<object, number>();
		answer = (req, res) => {
			const n = (served.get(req.socket) ?? 0) + 1;
			served.set(req.socket, n);
			if (n > 1) return void req.socket.destroy();
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			res.end(sse({ choices: [{ delta: { content: 'ok' }, finish_reason: 'stop' }] }));
		};
		const client = new ChatCompletionsClient({ baseUrl: url });
		await collect(client);
		const before = bodies.length;
		const chunks = await collect(client);
		expect(chunks[0]!.choices?.[0]?.delta?.content).toBe('ok');
		expect(bodies.length - before).toBe(2); // the dropped one, and once more on a new connection
		// A new connection that fails is not sent again.
		answer = (req) => void req.socket.destroy();
		const fresh = new ChatCompletionsClient({ baseUrl: url });
		const e = await failure(collect(fresh));
		expect(e.message).toMatch(/^could not reach the endpoint/);
	});
});
