import type { Queryable } from '../db/types.ts';
import { deepFreeze } from '../deep-freeze.ts';
import { protocolVersionById } from '../protocols/protocols.repository.ts';
import { validateProtocol } from '../protocols/study-file.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';
import { chattingArm, conversationFrom, type Conversation } from '../assistant/conversation.ts';
import { MAX_MESSAGE_CHARS } from '../assistant/limits.ts';
import { endingCode, endingOf, returnUrl } from './endings.ts';
import { followUpLinksOf, type FollowUpLink } from '../follow-ups/follow-up-links.ts';
import {
	episodePageState,
	initialDecisionOf,
	type ParticipantRow
} from './participants.repository.ts';

// What a participant's page shows at their current step, and nothing more: no arm id or label,
// no scenario key, nothing about what comes next for anyone else.

export type ParticipantView =
	| { kind: 'consent'; title: string; consentText: string }
	| {
			kind: 'screening';
			questions: { id: string; text: string; options: { value: string; label: string }[] }[];
	  }
	| {
			kind: 'episode';
			episode: number;
			of: number;
			step: 'scenario' | 'initial' | 'assist' | 'decision' | 'questionnaire';
			scenarioText: string;
			/** At the final decision, the initial one when the protocol reminds of it. */
			initialReminder: string | null;
			assistant: boolean;
			/** The conversation so far (LLM arms, at the assistant step). */
			conversation: (Conversation & { maxChars: number }) | null;
			safetyNotice: string | null;
			scale: { id: string; label: string }[];
			items: {
				id: string;
				text: string;
				min: number;
				max: number;
				labels: Record<string, string>;
			}[];
	  }
	| { kind: 'attention'; checks: { id: string; text: string; options: string[] }[] }
	| {
			kind: 'end_questionnaire';
			items: {
				id: string;
				text: string;
				min: number;
				max: number;
				labels: Record<string, string>;
			}[];
	  }
	| { kind: 'complete'; code: string; url: string | null; followUps: FollowUpLink[] }
	| { kind: 'declined' | 'ineligible' | 'withdrawn'; code: string | null; url: string | null }
	/** Entry pages before a session: the panel id is known (resume code needed), or the session moved. */
	| { kind: 'resume'; finished: boolean }
	| { kind: 'moved' }
	| { kind: 'closed' }
	/** The study needs the panel's id in its link, and this link has none. */
	| { kind: 'no_panel_id'; message: string };

/** The label of the episode's initial decision, to remind the participant of it. */
async function initialLabel(db: Queryable, protocol: StudyProtocol, episodeId: string) {
	const id = await initialDecisionOf(db, episodeId);
	return protocol.disposition_scale.find((d) => d.id === id)?.label ?? null;
}

// Locked protocol versions never change (the database refuses), so each is validated once per
// process. Bounded: a process serves a handful of studies and their amendments.
const lockedProtocols = new Map<string, StudyProtocol>();
const MAX_CACHED_PROTOCOLS = 100;

/** The protocol a participant was enrolled under (amendments do not move people mid-study). */
export async function protocolOf(
	db: Queryable,
	participant: Pick<ParticipantRow, 'protocolVersionId'>
): Promise<StudyProtocol> {
	const id = participant.protocolVersionId;
	const cached = id ? lockedProtocols.get(id) : undefined;
	if (cached) return cached;
	const version = id ? await protocolVersionById(db, id) : undefined;
	const checked = validateProtocol(version?.protocol);
	if (!checked.ok) throw new Error('the participant has no valid protocol version');
	if (id && version?.lockedAt) {
		if (lockedProtocols.size >= MAX_CACHED_PROTOCOLS) lockedProtocols.clear();
		lockedProtocols.set(id, deepFreeze(checked.protocol));
	}
	return checked.protocol;
}

const items = (list: StudyProtocol['questionnaires']['per_episode']) =>
	list.map((i) => ({
		id: i.id,
		text: i.text,
		min: i.scale.min,
		max: i.scale.max,
		labels: i.scale.labels
	}));

export async function participantView(
	db: Queryable,
	protocol: StudyProtocol,
	p: ParticipantRow
): Promise<ParticipantView> {
	switch (p.step) {
		case 'consent':
			return { kind: 'consent', title: protocol.title, consentText: protocol.consent.text };
		case 'screening':
			return {
				kind: 'screening',
				questions: protocol.screening.map((q) => ({
					id: q.id,
					text: q.text,
					options:
						q.type === 'yes_no'
							? [
									{ value: 'yes', label: 'Yes' },
									{ value: 'no', label: 'No' }
								]
							: (q.options ?? [])
				}))
			};
		case 'episode': {
			// The episodes, the current one's conversation and its emergency notice: one query.
			const state = await episodePageState(db, p.id, p.currentEpisode);
			const { episodes } = state;
			const current = episodes.find((e) => e.episode === p.currentEpisode)!;
			const scenario = protocol.scenarios.find((s) => s.id === current.scenarioKey)!;
			const arm = await chattingArm(db, protocol, p.id);
			const conversation = arm ? conversationFrom(arm, state.messages) : undefined;
			const showChat = conversation !== undefined && current.step === 'assist';
			return {
				kind: 'episode',
				episode: current.episode,
				of: episodes.length,
				step: current.step === 'done' ? 'questionnaire' : current.step,
				scenarioText: scenario.participant_text,
				assistant: conversation !== undefined,
				conversation: showChat ? { ...conversation, maxChars: MAX_MESSAGE_CHARS } : null,
				safetyNotice:
					showChat && state.safetyShown && protocol.safety ? protocol.safety.notice : null,
				initialReminder:
					current.step === 'decision' && protocol.initial_decision?.show_on_final === 'remind'
						? await initialLabel(db, protocol, current.id)
						: null,
				scale: protocol.disposition_scale,
				items: items(protocol.questionnaires.per_episode)
			};
		}
		case 'attention':
			return {
				kind: 'attention',
				checks: protocol.attention_checks.map((c) => ({
					id: c.id,
					text: c.text,
					options: c.options
				}))
			};
		case 'end_questionnaire':
			return { kind: 'end_questionnaire', items: items(protocol.questionnaires.end_of_study) };
		case 'complete': {
			const code = p.completionCode ?? '';
			return {
				kind: 'complete',
				code,
				url: returnUrl(protocol, code),
				followUps: await followUpLinksOf(db, protocol, p)
			};
		}
		case 'declined':
		case 'ineligible':
		case 'withdrawn': {
			const ending = endingOf(p.status, false);
			const code = endingCode(protocol, ending);
			return { kind: p.step, code, url: returnUrl(protocol, code) };
		}
		default:
			return { kind: p.step };
	}
}
