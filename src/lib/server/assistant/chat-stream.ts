import type { ChatEvent } from '../../chat-events.ts';

// The chat's server-sent event stream. A model streams a token every 10–50 ms, and every event
// written is a socket write (a system call, and on a virtual machine often a wake-up across
// cores); at 500 conversations those writes were the server's largest cost. So the first piece of
// a reply is written at once (the latency participants notice), and the pieces after it are
// gathered and written together at most every DELTA_FLUSH_MS — still a smooth stream to the eye.
// Every other event is written at once, after whatever text is waiting (order is kept).

/** How long later pieces of a reply are gathered before they are written. */
export const DELTA_FLUSH_MS = 50;

const encoder = new TextEncoder();
const sse = (e: ChatEvent) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

export interface ChatEventStream {
	/** The response body. */
	readonly body: ReadableStream<Uint8Array>;
	write(e: ChatEvent): void;
	/** Writes what is waiting and ends the stream. */
	close(): void;
}

export function chatEventStream(flushMs = DELTA_FLUSH_MS): ChatEventStream {
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	// False once the page has gone away; the reply is still generated and stored.
	let open = true;
	let waiting = '';
	let timer: ReturnType<typeof setTimeout> | null = null;
	let lastDeltaAt = -Infinity;
	const body = new ReadableStream<Uint8Array>({
		start: (c) => {
			controller = c;
		},
		cancel: () => {
			open = false;
			if (timer) clearTimeout(timer);
		}
	});
	// Events written together are one chunk: one socket write.
	const enqueue = (...events: ChatEvent[]) => {
		if (open && events.length > 0) controller.enqueue(encoder.encode(events.map(sse).join('')));
	};
	/** The text waiting, as a delta event (and nothing waits any more). */
	const takeWaiting = (): ChatEvent[] => {
		if (timer) clearTimeout(timer);
		timer = null;
		if (waiting === '') return [];
		const text = waiting;
		waiting = '';
		lastDeltaAt = performance.now();
		return [{ type: 'delta', text }];
	};
	const flush = () => enqueue(...takeWaiting());
	return {
		body,
		write(e) {
			if (e.type === 'delta') {
				const since = performance.now() - lastDeltaAt;
				if (timer === null && since >= flushMs) {
					enqueue(e);
					lastDeltaAt = performance.now();
				} else {
					waiting += e.text;
					timer ??= setTimeout(flush, Math.max(0, flushMs - since));
				}
				return;
			}
			// A reset voids the text streamed so far, including what has not been written yet.
			if (e.type === 'reset') {
				if (timer) clearTimeout(timer);
				timer = null;
				waiting = '';
				lastDeltaAt = -Infinity;
				enqueue(e);
			} else enqueue(...takeWaiting(), e);
		},
		close() {
			flush();
			if (open) controller.close();
			open = false;
		}
	};
}
