import { ENDINGS } from '../../../../analysis/io/columns.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';

// How a participant's session ended, in the panel's terms: what the study page and the export list
// for bulk approval, what decides the code the participant is shown, and what the panel actions
// (approve, reject, screen out, bonus) act on. One table, so the three never disagree.

export { ENDINGS };
export type Ending = (typeof ENDINGS)[number];

/** The ending of a participant with this status (a completed one who failed a check has its own). */
export function endingOf(status: string, failedAttention: boolean): Ending {
	switch (status) {
		case 'completed':
			return failedAttention ? 'failed attention check' : 'completed';
		case 'withdrawn':
			return 'withdrew';
		case 'declined':
			return 'declined consent';
		case 'ineligible':
			return 'screened out';
		case 'excluded':
			return 'excluded';
		default:
			return 'in progress';
	}
}

/** The protocol's code for an ending other than completion (null: the protocol names none). */
export function endingCode(protocol: StudyProtocol, ending: Ending): string | null {
	const codes = protocol.recruitment.ending_codes ?? {};
	switch (ending) {
		case 'declined consent':
			return codes.declined_consent ?? null;
		case 'screened out':
			return codes.screened_out ?? null;
		case 'failed attention check':
			return codes.failed_attention ?? protocol.recruitment.completion_code ?? null;
		case 'withdrew':
			return codes.withdrew ?? null;
		default:
			return null;
	}
}

/**
 * Where the participant goes back to the panel with a code: the protocol's completion_url with the
 * ending's code as its `cc` parameter, or Prolific's completion address.
 */
export function returnUrl(protocol: StudyProtocol, code: string | null): string | null {
	const { completion_url: url, panel } = protocol.recruitment;
	if (url) {
		if (code === null) return url;
		const address = new URL(url);
		address.searchParams.set('cc', code);
		return address.toString();
	}
	if (panel === 'prolific' && code !== null)
		return `https://app.prolific.com/submissions/complete?cc=${encodeURIComponent(code)}`;
	return null;
}
