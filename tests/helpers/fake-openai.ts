import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A fake OpenAI-compatible chat completions server: a real HTTP server on a free port that
// streams a reply token by token (SSE, as the real API does) and can be told to misbehave for the
// next requests: delay, answer 429/500, drop the connection mid-stream, send malformed JSON, or
// hang. It is the one fake in the suite, for what is outside Bedside: the LLM endpoint.

export type Behaviour =
	| { kind: 'ok'; content?: string; delayMs?: number }
	| { kind: 'status'; status: number; message?: string; retryAfter?: string }
	| { kind: 'drop'; afterTokens?: number }
	| { kind: 'malformed' }
	| { kind: 'hang' };

export interface ChatBody {
	model: string;
	messages: { role: string; content: string }[];
	stream?: boolean;
	temperature?: number;
	top_p?: number;
	seed?: number;
	max_tokens?: number;
	response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
}

export interface FakeOpenAi {
	/** The base URL to configure (`…/v1`). */
	url: string;
	/** Every request body received, in order. */
	requests: ChatBody[];
	/** Behaviours for the next requests, in order; when they run out, requests get `ok`. */
	enqueue(...behaviours: Behaviour[]): void;
	/** Forgets behaviours not used yet. */
	clear(): void;
	/** What an `ok` request without its own content answers. Default: echoes the last user message. */
	reply: (body: ChatBody) => string;
	/** Milliseconds between streamed tokens. */
	tokenDelayMs: number;
	close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tokensOf(content: string): string[] {
	return content.match(/\S+\s*|\s+/g) ?? [content];
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
	const queue: Behaviour[] = [];
	const sockets = new Set<import('node:net').Socket>();
	const fake: FakeOpenAi = {
		url: '',
		requests: [],
		enqueue: (...b) => queue.push(...b),
		clear: () => queue.splice(0),
		reply: (body) => `You said: ${body.messages.findLast((m) => m.role === 'user')?.content ?? ''}`,
		tokenDelayMs: 0,
		close: () =>
			new Promise((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			})
	};

	const server = http.createServer(async (req, res) => {
		if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
			res.writeHead(404, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ error: { message: 'not found' } }));
			return;
		}
		let raw = '';
		for await (const chunk of req) raw += chunk;
		const body = JSON.parse(raw) as ChatBody;
		fake.requests.push(body);
		const behaviour = queue.shift() ?? { kind: 'ok' };
		const id = `chatcmpl-${fake.requests.length}`;
		const model = `${body.model}-served`;
		const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown) =>
			`data: ${JSON.stringify({
				id,
				object: 'chat.completion.chunk',
				created: 1,
				model,
				system_fingerprint: 'fp_fake',
				choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
				...(usage ? { usage } : {})
			})}\n\n`;

		switch (behaviour.kind) {
			case 'status':
				res.writeHead(behaviour.status, {
					'content-type': 'application/json',
					...(behaviour.retryAfter !== undefined && { 'retry-after': behaviour.retryAfter })
				});
				res.end(
					JSON.stringify({
						error: { message: behaviour.message ?? `fake status ${behaviour.status}` }
					})
				);
				return;
			case 'hang':
				return; // never answers; the client's timeout ends it
			case 'malformed':
				res.writeHead(200, { 'content-type': 'text/event-stream' });
				res.write(chunk({ role: 'assistant', content: 'Partial ' }, null));
				res.end('data: {"id": "broken", "choices": [\n\n');
				return;
			case 'drop': {
				res.writeHead(200, { 'content-type': 'text/event-stream' });
				const tokens = tokensOf(fake.reply(body)).slice(0, behaviour.afterTokens ?? 2);
				for (const t of tokens) res.write(chunk({ content: t }, null));
				await sleep(20);
				req.socket.destroy();
				return;
			}
			case 'ok': {
				if (behaviour.delayMs) await sleep(behaviour.delayMs);
				const content = behaviour.content ?? fake.reply(body);
				const promptTokens = body.messages.reduce((n, m) => n + tokensOf(m.content).length, 0);
				const completionTokens = tokensOf(content).length;
				if (body.stream === false || body.stream === undefined) {
					res.writeHead(200, { 'content-type': 'application/json' });
					res.end(
						JSON.stringify({
							id,
							object: 'chat.completion',
							created: 1,
							model,
							system_fingerprint: 'fp_fake',
							choices: [
								{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }
							],
							usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens }
						})
					);
					return;
				}
				res.writeHead(200, { 'content-type': 'text/event-stream' });
				res.write(chunk({ role: 'assistant', content: '' }, null));
				for (const t of tokensOf(content)) {
					if (fake.tokenDelayMs) await sleep(fake.tokenDelayMs);
					res.write(chunk({ content: t }, null));
				}
				res.write(chunk({}, 'stop'));
				res.write(
					chunk({}, null, {
						prompt_tokens: promptTokens,
						completion_tokens: completionTokens,
						total_tokens: promptTokens + completionTokens
					})
				);
				res.end('data: [DONE]\n\n');
				return;
			}
		}
	});
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
	return fake;
}
