import { describe, expect, it } from 'vitest';
import { ScriptedProvider } from '../../src/lib/server/assistant/scripted-provider.ts';
import { exampleProtocol } from '../helpers/studies.ts';

describe('the scripted assistant', () => {
	const arm = exampleProtocol().arms.find((a) => a.assistant?.provider === 'scripted')!;
	const provider = new ScriptedProvider(arm.assistant as never);

	it('moves on instead of asking the same question twice, then repeats its last answer', () => {
		const first = provider.reply('I have a cough', []);
		expect(first).toMatch(/How long has this been going on/);
		const second = provider.reply('Three days, a bit worse', [first]);
		expect(second).not.toBe(first);
		expect(second).toMatch(/GP/);
		expect(provider.reply('Anything else?', [first, second])).toBe(second);
	});

	it('answers emergency words with its emergency reply every time', () => {
		const urgent = provider.reply('crushing chest pain', []);
		expect(urgent).toMatch(/ambulance/);
		expect(provider.reply('my chest still hurts', [urgent])).toBe(urgent);
	});
});
