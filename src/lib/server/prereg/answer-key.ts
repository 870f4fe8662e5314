import { createHmac } from 'node:crypto';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { canonicalJson, sha256Hex } from '../protocols/hash.ts';

// While a study runs, its answer key stays off every public page: a participant who found the
// registry could otherwise read each scenario's correct disposition and the attention-check
// answers. The preregistration commits to the key instead, as it does to the seed, and the key
// is shown when the study closes.
//
// The commitment is salted: the key has little entropy (a disposition out of five per scenario),
// so a bare hash could be inverted by trying every combination. The salt is derived from the
// randomization seed, which is itself committed now and revealed at close, so anyone can check
// the commitment then and nobody can before.

/** Everything that says what a right answer is. */
export function answerKeyOf(protocol: StudyProtocol) {
	return {
		scenarios: protocol.scenarios.map((s) => ({
			id: s.id,
			correct_disposition: s.correct_disposition,
			relevant_conditions: s.relevant_conditions,
			red_flags: s.red_flags
		})),
		attention_checks: protocol.attention_checks.map((c) => ({ id: c.id, correct: c.correct }))
	};
}

/** HMAC-SHA256 of "bedside answer key", keyed by the randomization seed (hex). */
export function answerKeySalt(seed: string): string {
	return createHmac('sha256', seed).update('bedside answer key').digest('hex');
}

/** SHA-256 of the salt, a newline, and the answer key's RFC 8785 canonical JSON. */
export function answerKeyCommitment(seed: string, protocol: StudyProtocol): string {
	return sha256Hex(`${answerKeySalt(seed)}\n${canonicalJson(answerKeyOf(protocol))}`);
}
