// Admission control for chat messages, per worker: at most `active` messages are being stored and
// claimed at once (each holds a database connection in a transaction), a bounded queue waits its
// turn in order, and beyond that a message is refused at once as "busy" (503 with Retry-After),
// before anything is stored: the participant's page keeps the text and sends it again, so no
// message is lost, and a burst queues instead of piling onto the database. The model's streaming
// reply is not counted: it holds no connection.

export class ChatBusyError extends Error {
	constructor(readonly retryAfterSeconds: number) {
		super(
			'Many people are writing to the assistant right now. Your message will be sent again in a moment.'
		);
		this.name = 'ChatBusyError';
	}
}

export class Admission {
	private active = 0;
	private readonly waiting: (() => void)[] = [];

	constructor(
		readonly maxActive: number,
		readonly maxQueued: number
	) {}

	/** Resolves with a release function once admitted; throws ChatBusyError when the queue is full. */
	async enter(): Promise<() => void> {
		if (this.active < this.maxActive) {
			this.active += 1;
			return this.releaser();
		}
		if (this.waiting.length >= this.maxQueued) throw new ChatBusyError(1);
		await new Promise<void>((resolve) => this.waiting.push(resolve));
		return this.releaser();
	}

	/** Messages being stored now, and waiting their turn. */
	load(): { active: number; queued: number } {
		return { active: this.active, queued: this.waiting.length };
	}

	private releaser(): () => void {
		let released = false;
		return () => {
			if (released) return;
			released = true;
			// The slot passes straight to the next in line (active stays the same), else frees up.
			const next = this.waiting.shift();
			if (next) next();
			else this.active -= 1;
		};
	}
}
