import seedrandom from 'seedrandom';
import type { StudyProtocol } from '../lib/server/protocols/study-schema.ts';
import type { ParticipantView } from '../lib/server/participants/participant-view.ts';
import { BotHttpError, HttpParticipant } from './http-participant.ts';

// One simulated participant with behavioral parameters, going through the real HTTP flow. Each
// bot draws from its own seeded generator (seed:index), so what a bot does does not depend on
// how the pool happened to schedule it.

export interface BotBehaviour {
	/** Probability of deciding what the assistant recommended (else another level, at random). */
	uptake: number;
	/** Probability of answering an attention check wrongly. */
	attentionFailure: number;
	/** Probability of leaving before the end (at a random step). */
	dropout: number;
	/** Probability, at each step, of reloading the page before acting. */
	reload: number;
	/** Probability, at each step, of sending the same form twice at once (a double click). */
	doubleSubmit: number;
	/** Probability, at each step, of going back and sending the previous page's form again. */
	back: number;
	/** Messages sent to the assistant per episode (LLM arms). */
	messages: number;
	/**
	 * Probability of moving to a second device part-way (the same panel link, then the resume code)
	 * and later back to the first (whose session has moved: the code again).
	 */
	switchDevice: number;
	/**
	 * Probability of starting in a shared browser: someone else opened the study there before (and
	 * declined), so the bot's own link must start its own participant, not continue theirs.
	 */
	sharedBrowser: number;
}

export const DEFAULT_BEHAVIOUR: BotBehaviour = {
	uptake: 0.6,
	attentionFailure: 0.05,
	dropout: 0.05,
	reload: 0.1,
	doubleSubmit: 0.05,
	back: 0.02,
	messages: 1,
	switchDevice: 0,
	sharedBrowser: 0
};

export type BotOutcome =
	'completed' | 'ineligible' | 'dropped_out' | 'declined' | 'withdrawn' | 'closed' | 'error';

export interface BotResult {
	index: number;
	externalId: string;
	outcome: BotOutcome;
	completionCode: string | null;
	steps: number;
	/** The bot's own record of what it did, to check against what the server stored. */
	decisions: {
		episode: number;
		disposition: string;
		recommended: string | null;
		tookAdvice: boolean;
	}[];
	attentionFailed: boolean | null;
	/** Device switches made (to a second device and back count one each). */
	deviceSwitches: number;
	/** The panel id of the person who used this browser before, when it was shared. */
	previousPerson: string | null;
	doubleSubmits: number;
	reloads: number;
	backs: number;
	chatFailures: number;
	/** Requests that failed (network error or 5xx) and were tried again after a pause. */
	retries: number;
	error: string | null;
}

const MAX_STEPS = 200;

/** The scale level an assistant's reply recommends, as a reader would find it: the last level named. */
export function recommendedLevel(
	reply: string,
	scale: { id: string; label: string }[],
	phrases: Map<string, string[]> = new Map()
): string | null {
	const text = reply.toLowerCase();
	let best: { id: string; at: number } | null = null;
	for (const level of scale) {
		for (const name of [
			level.label,
			level.id.replace(/_/g, ' '),
			...(phrases.get(level.id) ?? [])
		]) {
			// Whole words only: "ER" must not match inside "whether".
			const escaped = name.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
			const pattern = new RegExp(`(?<![a-z0-9])${escaped}(?![a-z0-9])`, 'g');
			for (const match of text.matchAll(pattern))
				if (!best || match.index > best.at) best = { id: level.id, at: match.index };
		}
	}
	return best?.id ?? null;
}

export interface BotOptions {
	/** The server, or several instances (requests go to each in turn). */
	baseUrl: string | string[];
	slug: string;
	index: number;
	seed: string;
	behaviour: BotBehaviour;
	/** The study file, when the bot runner has it: eligible screening answers and attention keys. */
	protocol?: StudyProtocol;
	timeoutMs?: number;
	/** How long a bot keeps trying through failures (server down, 503, the model failing) before giving up. */
	patienceMs?: number;
}

/** A failure worth waiting out: the server unreachable or answering 5xx. */
function isTransient(error: unknown): boolean {
	if (error instanceof BotHttpError) return error.status >= 500;
	const e = error as { name?: string; message?: string; cause?: { code?: string } };
	return (
		e?.name === 'TimeoutError' ||
		e?.name === 'AbortError' ||
		/fetch failed|terminated|other side closed|ECONNRE/i.test(e?.message ?? '') ||
		/ECONN|EPIPE|UND_ERR/.test(e?.cause?.code ?? '')
	);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBot(
	o: BotOptions
): Promise<BotResult & { timings: HttpParticipant['timings'] }> {
	const random = seedrandom(`${o.seed}:${o.index}`);
	const chance = (p: number) => random() < p;
	const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
	const devices = [new HttpParticipant(o.baseUrl, o.slug, o.timeoutMs)];
	let http = devices[0]!;
	const externalId = `bot-${o.seed}-${o.index}`;
	const result: BotResult = {
		index: o.index,
		externalId,
		outcome: 'error',
		completionCode: null,
		steps: 0,
		decisions: [],
		attentionFailed: null,
		deviceSwitches: 0,
		previousPerson: null,
		doubleSubmits: 0,
		reloads: 0,
		backs: 0,
		chatFailures: 0,
		retries: 0,
		error: null
	};
	const dropAt = chance(o.behaviour.dropout) ? 1 + Math.floor(random() * 8) : Infinity;
	// Drawn whatever the behaviour, so adding a behaviour never changes what the others do.
	const switchDraw = random();
	const switchAt = 2 + Math.floor(random() * 6);
	const switchBackAt = switchAt + 1 + Math.floor(random() * 4);
	const sharedDraw = random();
	const switches = switchDraw < o.behaviour.switchDevice;
	const phrases = new Map(o.protocol?.disposition_scale.map((d) => [d.id, d.phrases ?? []]));
	const entry = `?PROLIFIC_PID=${externalId}`;
	const recommended = new Map<number, string | null>();

	let previous: { action: string; fields: Record<string, string | string[]> } | null = null;
	/** Posts a step's form; sometimes twice at once, as a double click does. */
	const act = async (action: string, fields: Record<string, string | string[]>) => {
		let status: number;
		if (chance(o.behaviour.doubleSubmit)) {
			result.doubleSubmits++;
			const statuses = await Promise.all([http.act(action, fields), http.act(action, fields)]);
			status = statuses.includes(303) ? 303 : statuses[0]!;
		} else status = await http.act(action, fields);
		if (status === 303) previous = { action, fields };
		return status;
	};

	const answerScreening = (view: Extract<ParticipantView, { kind: 'screening' }>) =>
		Object.fromEntries(
			view.questions.map((q) => {
				const rule = o.protocol?.screening.find((s) => s.id === q.id);
				const eligible = q.options.filter((x) => !rule?.ineligible_if?.includes(x.value));
				if (!o.protocol && q.options.some((x) => x.value === 'yes')) return [q.id, 'yes'];
				return [q.id, pick(eligible.length ? eligible : q.options).value];
			})
		);

	const answerAttention = (view: Extract<ParticipantView, { kind: 'attention' }>) => {
		const fail = chance(o.behaviour.attentionFailure);
		result.attentionFailed = fail;
		return Object.fromEntries(
			view.checks.map((c) => {
				// The key from the study file, or the option the instruction names ("please choose 'X'").
				const right =
					o.protocol?.attention_checks.find((a) => a.id === c.id)?.correct ??
					c.options.find((x) => c.text.toLowerCase().includes(`'${x.toLowerCase()}'`)) ??
					c.options[0]!;
				return [c.id, fail ? pick(c.options.filter((x) => x !== right)) : right];
			})
		);
	};

	const scaleAnswers = (items: { id: string; min: number; max: number }[]) =>
		Object.fromEntries(
			items.map((i) => [i.id, String(i.min + Math.floor(random() * (i.max - i.min + 1)))])
		);

	const patience = o.patienceMs ?? 60_000;
	/** Runs one step, waiting out transient failures (a restart, a 503) for up to `patience`. */
	const withPatience = async <T>(work: () => Promise<T>): Promise<T> => {
		const deadline = Date.now() + patience;
		for (let pause = 200; ; pause = Math.min(pause * 2, 2_000)) {
			try {
				return await work();
			} catch (e) {
				if (!isTransient(e) || Date.now() + pause > deadline) throw e;
				result.retries++;
				await sleep(pause);
			}
		}
	};

	/** The assistant step: the bot's messages (a failed reply is sent again), then "ready". */
	const converse = async (view: Extract<ParticipantView, { kind: 'episode' }>) => {
		const conversation = view.conversation!;
		let last = conversation.messages.filter((x) => x.role === 'assistant').at(-1)?.content ?? null;
		// Messages already stored; the last may be unanswered (a reply that failed before a reload).
		let stored = conversation.messages.filter((m) => m.role === 'user').length;
		const unanswered = conversation.messages.at(-1)?.role === 'user';
		const deadline = Date.now() + patience;
		for (let m = unanswered ? stored - 1 : stored; m < o.behaviour.messages;) {
			const resend = m < stored;
			const reply = await http.chat(
				view.episode,
				resend
					? undefined
					: pick([
							'What should I do about this?',
							'How urgent is this, and where should I go?',
							'Is this serious? What do you recommend?'
						])
			);
			if (reply.reply !== null) {
				last = reply.reply;
				m++;
				continue;
			}
			// The model failed (the message is kept): wait, then "Send it again", as a person would.
			result.chatFailures++;
			if (Date.now() > deadline) throw new Error(`the assistant kept failing: ${reply.failed}`);
			await sleep(500);
			if (!resend) stored = m + 1; // the message is stored: from now on it is the one to resend
			if (reply.status === 409) break; // e.g. the turn cap: nothing more to send
		}
		recommended.set(view.episode, last ? recommendedLevel(last, view.scale, phrases) : null);
	};

	let sentDecision: BotResult['decisions'][number] | null = null;
	/** The decision last sent is stored: the server said so, or has moved past the decision step. */
	const recordDecision = () => {
		const d = sentDecision;
		if (d && !result.decisions.some((x) => x.episode === d.episode)) result.decisions.push(d);
		sentDecision = null;
	};

	/** Moves to another device: the first visit there needs the resume code, as it would a person. */
	const moveTo = async (next: HttpParticipant, withEntry: boolean) => {
		const code = http.resumeCode;
		if (!code) return; // not consented yet: nothing to resume
		http = next;
		if (withEntry) await http.openPage(entry);
		const view = await http.view(withEntry ? entry : '');
		if (view.kind !== 'resume' && view.kind !== 'moved')
			throw new Error(`a new device was shown "${view.kind}" instead of the resume page`);
		const status = await http.act('resume', { entry: withEntry ? entry : '', code });
		if (status !== 303) throw new Error(`the resume code was refused (${status})`);
		http.resumeCode = code;
		result.deviceSwitches++;
	};

	/** One step of the journey; true when the bot has reached an end. */
	const step = async (): Promise<boolean> => {
		if (switches && result.steps === switchAt && devices.length === 1) {
			devices.push(new HttpParticipant(o.baseUrl, o.slug, o.timeoutMs));
			await moveTo(devices[1]!, true);
		} else if (switches && result.steps === switchBackAt && http !== devices[0]) {
			await moveTo(devices[0]!, false);
		}
		if (result.steps > 0 && chance(o.behaviour.reload)) {
			result.reloads++;
			await http.openPage();
		}
		if (previous && chance(o.behaviour.back)) {
			// Back to the previous page, and its form sent again: refused or a no-op, never a change.
			result.backs++;
			await http.act(previous.action, previous.fields);
		}
		const view = await http.view();
		const stillDeciding =
			view.kind === 'episode' && view.step === 'decision' && view.episode === sentDecision?.episode;
		if (sentDecision && !stillDeciding) recordDecision();
		let status = 303;
		switch (view.kind) {
			case 'consent':
				status = await act('consent', { entry, agree: 'yes', nonce: http.nonce });
				break;
			case 'screening':
				status = await act('screening', answerScreening(view));
				break;
			case 'episode': {
				const episode = String(view.episode);
				if (view.step === 'scenario') status = await act('read', { episode });
				else if (view.step === 'assist') {
					if (view.assistant && view.conversation && view.conversation.turnsLeft > 0)
						await converse(view);
					status = await act('ready', { episode });
				} else if (view.step === 'decision') {
					const advice = recommended.get(view.episode) ?? null;
					const take = advice !== null && chance(o.behaviour.uptake);
					const disposition = take ? advice! : pick(view.scale.filter((d) => d.id !== advice)).id;
					// Sent but not yet confirmed: if the answer is lost (the server killed after its
					// commit), the next page shows whether it was stored.
					sentDecision = {
						episode: view.episode,
						disposition,
						recommended: advice,
						tookAdvice: take
					};
					status = await act('decide', { episode, disposition, conditions: ['not sure'] });
					if (status === 303) recordDecision();
				} else status = await act('questionnaire', { episode, ...scaleAnswers(view.items) });
				break;
			}
			case 'attention':
				status = await act('attention', answerAttention(view));
				break;
			case 'end_questionnaire':
				status = await act('end', scaleAnswers(view.items));
				break;
			case 'complete':
				result.outcome = 'completed';
				result.completionCode = view.code;
				return true;
			case 'declined':
			case 'ineligible':
			case 'withdrawn':
				result.outcome = view.kind;
				return true;
			case 'resume':
			case 'moved':
				// Only a device switch leads here, and moveTo answers it; anything else is a broken promise.
				throw new Error(`the bot's own browser was shown "${view.kind}"`);
		}
		if (status !== 303)
			throw new Error(
				`step ${view.kind}${'step' in view ? `/${view.step}` : ''} answered ${status}`
			);
		return false;
	};

	const timings = () => devices.flatMap((d) => d.timings);
	try {
		if (sharedDraw < o.behaviour.sharedBrowser) {
			// Someone else used this browser first, and declined: their session cookie stays behind.
			const previous = `${externalId}-before`;
			await withPatience(() => http.openPage(`?PROLIFIC_PID=${previous}`));
			await http.view(`?PROLIFIC_PID=${previous}`);
			await http.act('consent', {
				entry: `?PROLIFIC_PID=${previous}`,
				agree: 'no',
				nonce: http.nonce
			});
			result.previousPerson = previous;
		}
		if ((await withPatience(() => http.openPage(entry))) >= 400) {
			result.outcome = 'closed';
			return { ...result, timings: timings() };
		}
		for (; result.steps < MAX_STEPS; result.steps++) {
			if (result.steps >= dropAt) {
				result.outcome = 'dropped_out';
				break;
			}
			if (await withPatience(step)) break;
		}
		if (result.outcome === 'error' && result.steps >= MAX_STEPS)
			result.error = `no end after ${MAX_STEPS} steps`;
	} catch (e) {
		result.outcome = 'error';
		result.error = e instanceof Error ? e.message : String(e);
	}
	return { ...result, timings: timings() };
}
