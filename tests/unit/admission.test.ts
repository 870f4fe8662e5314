import { describe, expect, it } from 'vitest';
import { Admission, ChatBusyError } from '../../src/lib/server/assistant/admission.ts';

describe('chat admission', () => {
	it('admits up to its limit, queues in order, and refuses when the queue is full', async () => {
		const gate = new Admission(2, 2);
		const a = await gate.enter();
		const b = await gate.enter();
		const order: string[] = [];
		const c = gate.enter().then((leave) => (order.push('c'), leave));
		const d = gate.enter().then((leave) => (order.push('d'), leave));
		expect(gate.load()).toEqual({ active: 2, queued: 2 });
		await expect(gate.enter()).rejects.toBeInstanceOf(ChatBusyError);
		a();
		a(); // releasing twice frees one slot, not two
		const leaveC = await c;
		expect(order).toEqual(['c']);
		expect(gate.load()).toEqual({ active: 2, queued: 1 });
		b();
		const leaveD = await d;
		expect(order).toEqual(['c', 'd']);
		leaveC();
		leaveD();
		expect(gate.load()).toEqual({ active: 0, queued: 0 });
	});
});
