import type { Queryable } from '../db/types.ts';
import type { Arm, StudyProtocol } from '../protocols/study-schema.ts';
import { armKeyOfParticipant } from '../randomization/allocation.repository.ts';
import type { AssistantConfig } from './provider.ts';

/** What the page needs to show an episode's conversation. */
export interface Conversation {
	messages: { turn: number; role: 'user' | 'assistant'; content: string }[];
	/** The last message is the participant's and has no reply (it failed, or is on its way). */
	awaitingReply: boolean;
	turnsLeft: number;
	scripted: boolean;
}

/** The participant's arm if it chats (never shown to them). */
export async function chattingArm(
	db: Queryable,
	protocol: StudyProtocol,
	participantId: string,
	settled?: boolean
): Promise<(Arm & { assistant: AssistantConfig }) | undefined> {
	const armKey = await armKeyOfParticipant(db, participantId, settled);
	const arm = protocol.arms.find((a) => a.id === armKey);
	return arm?.kind === 'llm_assisted' && arm.assistant
		? (arm as Arm & { assistant: AssistantConfig })
		: undefined;
}

/** The conversation the page shows, from the arm that chats and the episode's messages. */
export function conversationFrom(
	arm: Arm & { assistant: AssistantConfig },
	messages: readonly { turn: number; role: 'user' | 'assistant'; content: string }[]
): Conversation {
	const used = messages.filter((m) => m.role === 'user').length;
	return {
		messages: messages.map(({ turn, role, content }) => ({ turn, role, content })),
		awaitingReply: messages.at(-1)?.role === 'user',
		turnsLeft: Math.max(0, arm.assistant.max_turns - used),
		scripted: arm.assistant.provider === 'scripted'
	};
}
