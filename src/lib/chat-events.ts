// What the chat endpoint streams to the page, one server-sent event each (shared by the server
// that sends them and the component that reads them).
export type ChatEvent =
	| { type: 'accepted'; turn: number; content: string }
	| { type: 'safety'; notice: string }
	| { type: 'delta'; text: string }
	| { type: 'reset' }
	| { type: 'reply'; turn: number; content: string; turnsLeft: number }
	| { type: 'failed'; message: string };

/**
 * Reads the chat endpoint's server-sent events from a response body, one ChatEvent at a time as
 * each arrives (the page and the bots read the stream the same way).
 */
export async function* readChatEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatEvent> {
	const reader = body.getReader();
	const decoder = new TextDecoder();
	let buffer = '';
	for (;;) {
		const { value, done } = await reader.read();
		if (done) return;
		buffer += decoder.decode(value, { stream: true });
		let end: number;
		while ((end = buffer.indexOf('\n\n')) >= 0) {
			const block = buffer.slice(0, end);
			buffer = buffer.slice(end + 2);
			const data = block
				.split('\n')
				.find((line) => line.startsWith('data: '))
				?.slice(6);
			if (data) yield JSON.parse(data) as ChatEvent;
		}
	}
}
