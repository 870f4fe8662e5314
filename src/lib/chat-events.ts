// What the chat endpoint streams to the page, one server-sent event each (shared by the server
// that sends them and the component that reads them).
export type ChatEvent =
	| { type: 'accepted'; turn: number; content: string }
	| { type: 'safety'; notice: string }
	| { type: 'delta'; text: string }
	| { type: 'reset' }
	| { type: 'reply'; turn: number; content: string; turnsLeft: number }
	| { type: 'failed'; message: string };
