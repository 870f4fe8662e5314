import { describe, expect, it } from 'vitest';
import { readChatEvents, type ChatEvent } from '../../src/lib/chat-events.ts';
import { chatEventStream } from '../../src/lib/server/assistant/chat-stream.ts';

/** Every chunk of the body (one chunk is one socket write) and the events they carry. */
async function drain(body: ReadableStream<Uint8Array>) {
	const [forChunks, forEvents] = body.tee();
	const chunks: string[] = [];
	const decoder = new TextDecoder();
	const reader = forChunks.getReader();
	const events: ChatEvent[] = [];
	await Promise.all([
		(async () => {
			for (;;) {
				const { value, done } = await reader.read();
				if (done) return;
				chunks.push(decoder.decode(value));
			}
		})(),
		(async () => {
			for await (const e of readChatEvents(forEvents)) events.push(e);
		})()
	]);
	return { chunks, events };
}

const text = (events: ChatEvent[]) =>
	events.map((e) => (e.type === 'delta' ? e.text : e.type === 'reset' ? '|' : '')).join('');

describe('the chat event stream', () => {
	it('writes the first piece at once and gathers the pieces that follow, in order', async () => {
		const s = chatEventStream(30);
		const reader = s.body.getReader();
		const decoder = new TextDecoder();
		const chunks: string[] = [];
		const nextChunk = async () => {
			const { value } = await reader.read();
			chunks.push(decoder.decode(value));
		};
		s.write({ type: 'accepted', turn: 1, content: 'hi' });
		const pieces = Array.from({ length: 10 }, (_, i) => `w${i} `);
		for (const p of pieces) s.write({ type: 'delta', text: p });
		// accepted, the first piece alone, then the nine gathered when the window closes.
		for (let i = 0; i < 3; i++) await nextChunk();
		// A whole window later (a timer never fires early), a piece is written at once again...
		await new Promise((r) => setTimeout(r, 35));
		s.write({ type: 'delta', text: 'late ' });
		// ...and one right after it waits, to go out with the reply.
		s.write({ type: 'delta', text: 'end' });
		s.write({ type: 'reply', turn: 1, content: pieces.join('') + 'late end', turnsLeft: 3 });
		s.close();
		for (;;) {
			const { value, done } = await reader.read();
			if (done) break;
			chunks.push(decoder.decode(value));
		}
		expect(chunks).toHaveLength(5);
		const { events } = await drain(
			new ReadableStream({
				start(c) {
					for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
					c.close();
				}
			})
		);
		expect(text(events)).toBe(pieces.join('') + 'late end');
		expect(events.map((e) => e.type)).toEqual([
			'accepted',
			'delta',
			'delta',
			'delta',
			'delta',
			'reply'
		]);
		expect(events[1]).toEqual({ type: 'delta', text: 'w0 ' });
		expect(events[2]).toEqual({ type: 'delta', text: pieces.slice(1).join('') });
		expect(chunks[4]).toContain('event: delta');
		expect(chunks[4]).toContain('event: reply');
	});

	it('drops text still waiting when a reset voids the attempt', async () => {
		const s = chatEventStream(1000);
		s.write({ type: 'delta', text: 'first ' });
		s.write({ type: 'delta', text: 'lost' });
		s.write({ type: 'reset' });
		s.write({ type: 'delta', text: 'again' });
		s.write({ type: 'failed', message: 'no' });
		s.close();
		const { events } = await drain(s.body);
		expect(text(events)).toBe('first |again');
		expect(events.at(-1)).toEqual({ type: 'failed', message: 'no' });
	});

	it('writes nothing after the page has gone away', async () => {
		const s = chatEventStream(5);
		await s.body.cancel();
		s.write({ type: 'delta', text: 'a' });
		s.write({ type: 'delta', text: 'b' });
		await new Promise((r) => setTimeout(r, 20));
		expect(() => s.close()).not.toThrow();
	});
});
