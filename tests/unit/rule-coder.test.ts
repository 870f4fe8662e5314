import { describe, expect, it } from 'vitest';
import {
	codeConditions,
	codeDisposition,
	levenshtein,
	normalize,
	similarity
} from '../../src/lib/server/coding/rule-coder.ts';
import { exampleProtocol } from '../helpers/studies.ts';

const protocol = exampleProtocol();
const conditions = protocol.scenarios.flatMap((s) => s.relevant_conditions);
const scale = protocol.disposition_scale;

describe('edit distance and similarity', () => {
	it.each([
		['kitten', 'sitting', 3],
		['flaw', 'lawn', 2],
		['', 'abc', 3],
		['same', 'same', 0],
		['haemorrhage', 'hemorrhage', 1]
	])('levenshtein(%s, %s) = %i', (a, b, d) => {
		expect(levenshtein(a, b)).toBe(d);
		expect(levenshtein(b, a)).toBe(d);
	});

	it('normalizes case, accents and punctuation', () => {
		expect(normalize('  Café-au-LAIT, A&E!  ')).toBe('cafe au lait a e');
		expect(similarity('appendicitis', 'apendicitis')).toBeCloseTo(1 - 1 / 12, 10);
	});
});

describe('coding conditions from free text', () => {
	// Each row: what someone typed, the condition ids it should code to.
	it.each([
		['appendicitis', ['appendicitis']],
		['Apendicitis', ['appendicitis']],
		['appendicits??', ['appendicitis']],
		['acute appendicitis maybe', ['appendicitis']],
		['sub-arachnoid haemorrhage', ['subarachnoid-haemorrhage']],
		['subarachnoid hemorrage', ['subarachnoid-haemorrhage']],
		['a bleed on the brain', ['subarachnoid-haemorrhage']],
		['Pulmonary embolus', ['pulmonary-embolism']],
		['P.E.', ['pulmonary-embolism']],
		['DVT in the left leg', ['deep-vein-thrombosis']],
		['gall stones', ['biliary-colic']],
		['Gallstone attack', ['biliary-colic']],
		['celulitis', ['cellulitis']],
		['myocardial infraction', ['acute-coronary-syndrome']],
		['heart attack', ['acute-coronary-syndrome']],
		['Sprained ankel', ['ankle-sprain']],
		['a cold', ['common-cold']],
		['could be anything', []],
		['pea allergy', []],
		['vagina', []],
		['', []]
	])('%j → %j', (typed, expected) => {
		expect(codeConditions([typed], conditions)).toEqual(expected);
	});

	it('codes several entries in the order they were written, each condition once', () => {
		expect(
			codeConditions(['DVT', 'a blood clot in the lung', 'deep vein thrombosis'], conditions)
		).toEqual(['deep-vein-thrombosis', 'pulmonary-embolism']);
	});

	it('respects a stricter threshold', () => {
		expect(codeConditions(['apendicits'], conditions, 0.8)).toEqual(['appendicitis']);
		expect(codeConditions(['apendicits'], conditions, 0.95)).toEqual([]);
	});
});

describe('coding the recommended disposition', () => {
	it.each([
		['Please call an ambulance now.', 'ambulance'],
		['Call 999 immediately.', 'ambulance'],
		['You should go to A&E today.', 'emergency_department'],
		['Go to the emergency room.', 'emergency_department'],
		['I would book a routine appointment with your GP.', 'routine_gp'],
		['Rest at home and drink fluids. If it gets worse, call 999.', 'self_care'],
		[
			'There is no need to call an ambulance. See a doctor today at an urgent care centre.',
			'urgent_primary_care'
		],
		['You do not need to go to A&E; a pharmacist can help.', 'self_care'],
		['I hope you feel better soon.', null]
	])('%j → %s', (text, expected) => {
		expect(codeDisposition(text, scale).disposition).toBe(expected);
	});

	it('records every mention and whether it was negated or conditional', () => {
		const { mentions } = codeDisposition('Rest at home. If you cannot breathe, call 999.', scale);
		expect(mentions).toEqual([
			{ id: 'self_care', at: 0, qualified: false },
			{ id: 'ambulance', at: 7, qualified: true }
		]);
	});
});
