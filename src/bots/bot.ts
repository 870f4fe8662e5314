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
	/**
	 * In a study that asks for a decision before the advice: the probability that it is the
	 * scenario's correct disposition (else another level, at random). Optional: default 0.5.
	 */
	initialAccuracy?: number;
	/**
	 * In a study that asks for a decision before the advice: instead of `uptake`, the probability
	 * of switching to the advice when it is right and when it is wrong (judged by the study file's
	 * key); otherwise the bot keeps its first answer.
	 */
	adviceTaking?: { right: number; wrong: number };
	/** Probability, per episode, of pasting text into the page (a paste event, its length only). */
	paste?: number;
	/** Probability, per episode, of leaving the page for another tab during the assistant step. */
	leaveTab?: number;
	/** Probability of declining consent. */
	decline?: number;
	/** Probability of giving a screening answer that makes one ineligible (when there is one). */
	screenOut?: number;
	/** Probability of leaving the study with "Leave the study" at a random step. */
	withdraw?: number;
	/**
	 * After completing, in a study with a follow-up whose link is already open: the probability of
	 * answering it, and of answering "yes" to each yes/no question.
	 */
	followUp?: { answer: number; yes: number };
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
	/** The code the last page showed for an ending other than completion (null: none). */
	endingCode: string | null;
	/** The follow-up answers the bot sent and the server took, by follow-up id. */
	followUps: Record<string, Record<string, string>>;
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

/** Views from which a participant can leave the study. */
const MID_STUDY = new Set(['screening', 'episode', 'attention', 'end_questionnaire']);

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
	return new Bot(o).run();
}

type View<K extends ParticipantView['kind']> = Extract<ParticipantView, { kind: K }>;

/**
 * One simulated participant: its seeded choices, its devices, and what it has done so far. Every
 * random draw comes from one stream seeded by (seed, index), in a fixed order, so a behaviour
 * added later never changes what the others do.
 */
class Bot {
	private readonly random: () => number;
	private readonly devices: HttpParticipant[];
	private http: HttpParticipant;
	private readonly externalId: string;
	private readonly entry: string;
	readonly result: BotResult;
	private readonly dropAt: number;
	private readonly switchAt: number;
	private readonly switchBackAt: number;
	private readonly sharedDraw: number;
	private readonly switches: boolean;
	private readonly phrases: Map<string, string[]>;
	private readonly recommended = new Map<number, string | null>();
	private readonly patience: number;
	private previous: { action: string; fields: Record<string, string | string[]> } | null = null;
	/** The bot's own first answer per episode, in a study that asks for one. */
	private readonly initialOf = new Map<number, string>();
	private sentDecision: BotResult['decisions'][number] | null = null;
	private readonly withdrawAt: number;

	constructor(private readonly o: BotOptions) {
		this.random = seedrandom(`${o.seed}:${o.index}`);
		this.devices = [new HttpParticipant(o.baseUrl, o.slug, o.timeoutMs)];
		this.http = this.devices[0]!;
		this.externalId = `bot-${o.seed}-${o.index}`;
		this.entry = `?PROLIFIC_PID=${this.externalId}`;
		this.result = {
			index: o.index,
			externalId: this.externalId,
			outcome: 'error',
			completionCode: null,
			steps: 0,
			decisions: [],
			attentionFailed: null,
			endingCode: null,
			followUps: {},
			deviceSwitches: 0,
			previousPerson: null,
			doubleSubmits: 0,
			reloads: 0,
			backs: 0,
			chatFailures: 0,
			retries: 0,
			error: null
		};
		this.dropAt = this.chance(o.behaviour.dropout) ? 1 + Math.floor(this.random() * 8) : Infinity;
		// Drawn whatever the behaviour, so adding a behaviour never changes what the others do.
		const switchDraw = this.random();
		this.switchAt = 2 + Math.floor(this.random() * 6);
		this.switchBackAt = this.switchAt + 1 + Math.floor(this.random() * 4);
		this.sharedDraw = this.random();
		this.switches = switchDraw < o.behaviour.switchDevice;
		this.phrases = new Map(o.protocol?.disposition_scale.map((d) => [d.id, d.phrases ?? []]));
		this.patience = o.patienceMs ?? 60_000;
		// Drawn only when the behaviour is set, so runs without it draw exactly as before.
		const { withdraw } = o.behaviour;
		this.withdrawAt =
			withdraw !== undefined && this.chance(withdraw)
				? 1 + Math.floor(this.random() * 6)
				: Infinity;
	}

	private chance(p: number) {
		return this.random() < p;
	}

	private pick<T>(xs: T[]): T {
		return xs[Math.floor(this.random() * xs.length)]!;
	}

	private timings() {
		return this.devices.flatMap((d) => d.timings);
	}

	async run(): Promise<BotResult & { timings: HttpParticipant['timings'] }> {
		const { result, o } = this;
		try {
			if (this.sharedDraw < o.behaviour.sharedBrowser) await this.someoneElseFirst();
			if ((await this.withPatience(() => this.http.openPage(this.entry))) >= 400) {
				result.outcome = 'closed';
				return { ...result, timings: this.timings() };
			}
			for (; result.steps < MAX_STEPS; result.steps++) {
				if (result.steps >= this.dropAt) {
					result.outcome = 'dropped_out';
					break;
				}
				if (await this.withPatience(() => this.step())) break;
			}
			if (result.outcome === 'error' && result.steps >= MAX_STEPS)
				result.error = `no end after ${MAX_STEPS} steps`;
		} catch (e) {
			result.outcome = 'error';
			result.error = e instanceof Error ? e.message : String(e);
		}
		return { ...result, timings: this.timings() };
	}

	/** Someone else used this browser first, and declined: their session cookie stays behind. */
	private async someoneElseFirst() {
		const previous = `${this.externalId}-before`;
		await this.withPatience(() => this.http.openPage(`?PROLIFIC_PID=${previous}`));
		await this.http.view(`?PROLIFIC_PID=${previous}`);
		await this.http.act('consent', {
			entry: `?PROLIFIC_PID=${previous}`,
			agree: 'no',
			nonce: this.http.nonce
		});
		this.result.previousPerson = previous;
	}

	/** Posts a step's form; sometimes twice at once, as a double click does. */
	private async act(action: string, fields: Record<string, string | string[]>) {
		let status: number;
		if (this.chance(this.o.behaviour.doubleSubmit)) {
			this.result.doubleSubmits++;
			const statuses = await Promise.all([
				this.http.act(action, fields),
				this.http.act(action, fields)
			]);
			status = statuses.includes(303) ? 303 : statuses[0]!;
		} else status = await this.http.act(action, fields);
		if (status === 303) this.previous = { action, fields };
		return status;
	}

	private answerScreening(view: View<'screening'>) {
		const { protocol } = this.o;
		const { screenOut } = this.o.behaviour;
		const out = screenOut !== undefined && this.chance(screenOut);
		return Object.fromEntries(
			view.questions.map((q) => {
				const rule = protocol?.screening.find((s) => s.id === q.id);
				const ineligible = q.options.filter((x) => rule?.ineligible_if?.includes(x.value));
				if (out && ineligible.length > 0) return [q.id, this.pick(ineligible).value];
				const eligible = q.options.filter((x) => !rule?.ineligible_if?.includes(x.value));
				if (!protocol && q.options.some((x) => x.value === 'yes')) return [q.id, 'yes'];
				return [q.id, this.pick(eligible.length ? eligible : q.options).value];
			})
		);
	}

	private answerAttention(view: View<'attention'>) {
		const fail = this.chance(this.o.behaviour.attentionFailure);
		this.result.attentionFailed = fail;
		return Object.fromEntries(
			view.checks.map((c) => {
				// The key from the study file, or the option the instruction names ("please choose 'X'").
				const right =
					this.o.protocol?.attention_checks.find((a) => a.id === c.id)?.correct ??
					c.options.find((x) => c.text.toLowerCase().includes(`'${x.toLowerCase()}'`)) ??
					c.options[0]!;
				return [c.id, fail ? this.pick(c.options.filter((x) => x !== right)) : right];
			})
		);
	}

	private scaleAnswers(items: { id: string; min: number; max: number }[]) {
		return Object.fromEntries(
			items.map((i) => [i.id, String(i.min + Math.floor(this.random() * (i.max - i.min + 1)))])
		);
	}

	/** Runs one step, waiting out transient failures (a restart, a 503) for up to `patience`. */
	private async withPatience<T>(work: () => Promise<T>): Promise<T> {
		const deadline = Date.now() + this.patience;
		for (let pause = 200; ; pause = Math.min(pause * 2, 2_000)) {
			try {
				return await work();
			} catch (e) {
				if (!isTransient(e) || Date.now() + pause > deadline) throw e;
				this.result.retries++;
				await sleep(pause);
			}
		}
	}

	/** The assistant step: the bot's messages (a failed reply is sent again), then "ready". */
	private async converse(view: View<'episode'>) {
		const conversation = view.conversation!;
		let last = conversation.messages.filter((x) => x.role === 'assistant').at(-1)?.content ?? null;
		// Messages already stored; the last may be unanswered (a reply that failed before a reload).
		let stored = conversation.messages.filter((m) => m.role === 'user').length;
		const unanswered = conversation.messages.at(-1)?.role === 'user';
		const deadline = Date.now() + this.patience;
		for (let m = unanswered ? stored - 1 : stored; m < this.o.behaviour.messages;) {
			const resend = m < stored;
			const reply = await this.http.chat(
				view.episode,
				resend
					? undefined
					: this.pick([
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
			this.result.chatFailures++;
			if (Date.now() > deadline) throw new Error(`the assistant kept failing: ${reply.failed}`);
			await sleep(500);
			if (!resend) stored = m + 1; // the message is stored: from now on it is the one to resend
			if (reply.status === 409) break; // e.g. the turn cap: nothing more to send
		}
		this.recommended.set(
			view.episode,
			last ? recommendedLevel(last, view.scale, this.phrases) : null
		);
	}

	/** A paste and a tab left, with the behaviour's probabilities (no draws when they are unset). */
	private async telemetry(episode: number) {
		const { paste, leaveTab } = this.o.behaviour;
		const events: { kind: string; episode: number; detail?: Record<string, unknown> }[] = [];
		if (paste !== undefined && this.chance(paste))
			events.push({
				kind: 'paste',
				episode,
				detail: { field: 'text', length: 20 + Math.floor(this.random() * 180) }
			});
		if (leaveTab !== undefined && this.chance(leaveTab))
			events.push({ kind: 'visibility_hidden', episode }, { kind: 'visibility_visible', episode });
		if (events.length > 0) await this.http.events(events);
	}

	/** The decision last sent is stored: the server said so, or has moved past the decision step. */
	private recordDecision() {
		const d = this.sentDecision;
		if (d && !this.result.decisions.some((x) => x.episode === d.episode))
			this.result.decisions.push(d);
		this.sentDecision = null;
	}

	/** Moves to another device: the first visit there needs the resume code, as it would a person. */
	private async moveTo(next: HttpParticipant, withEntry: boolean) {
		const code = this.http.resumeCode;
		if (!code) return; // not consented yet: nothing to resume
		this.http = next;
		if (withEntry) await this.http.openPage(this.entry);
		const view = await this.http.view(withEntry ? this.entry : '');
		if (view.kind !== 'resume' && view.kind !== 'moved')
			throw new Error(`a new device was shown "${view.kind}" instead of the resume page`);
		const status = await this.http.act('resume', { entry: withEntry ? this.entry : '', code });
		if (status !== 303) throw new Error(`the resume code was refused (${status})`);
		this.http.resumeCode = code;
		this.result.deviceSwitches++;
	}

	/** What a careless person does between pages: switch device, reload, go back and resubmit. */
	private async wander() {
		const { result, o } = this;
		if (this.switches && result.steps === this.switchAt && this.devices.length === 1) {
			this.devices.push(new HttpParticipant(o.baseUrl, o.slug, o.timeoutMs));
			await this.moveTo(this.devices[1]!, true);
		} else if (
			this.switches &&
			result.steps === this.switchBackAt &&
			this.http !== this.devices[0]
		) {
			await this.moveTo(this.devices[0]!, false);
		}
		if (result.steps > 0 && this.chance(o.behaviour.reload)) {
			result.reloads++;
			await this.http.openPage();
		}
		if (this.previous && this.chance(o.behaviour.back)) {
			// Back to the previous page, and its form sent again: refused or a no-op, never a change.
			result.backs++;
			await this.http.act(this.previous.action, this.previous.fields);
		}
	}

	/** One step of the journey; true when the bot has reached an end. */
	private async step(): Promise<boolean> {
		await this.wander();
		// Until the study has given this browser a session, the page is the link with the panel id
		// (a study may require it), as a browser's address bar keeps it.
		const view = await this.http.view(this.http.resumeCode ? '' : this.entry);
		const stillDeciding =
			view.kind === 'episode' &&
			view.step === 'decision' &&
			view.episode === this.sentDecision?.episode;
		if (this.sentDecision && !stillDeciding) this.recordDecision();
		let status = 303;
		if (this.result.steps >= this.withdrawAt && MID_STUDY.has(view.kind)) {
			status = await this.http.act('withdraw', { confirm: 'yes' });
			if (status !== 303) throw new Error(`leaving the study answered ${status}`);
			return false;
		}
		switch (view.kind) {
			case 'consent': {
				const { decline } = this.o.behaviour;
				const agree = decline !== undefined && this.chance(decline) ? 'no' : 'yes';
				status = await this.act('consent', { entry: this.entry, agree, nonce: this.http.nonce });
				break;
			}
			case 'screening':
				status = await this.act('screening', this.answerScreening(view));
				break;
			case 'episode':
				status = await this.episodeStep(view);
				break;
			case 'attention':
				status = await this.act('attention', this.answerAttention(view));
				break;
			case 'end_questionnaire':
				status = await this.act('end', this.scaleAnswers(view.items));
				break;
			case 'complete':
				this.result.outcome = 'completed';
				this.result.completionCode = view.code;
				await this.answerFollowUps(view);
				return true;
			case 'declined':
			case 'ineligible':
			case 'withdrawn':
				this.result.outcome = view.kind;
				this.result.endingCode = view.code;
				return true;
			case 'no_panel_id':
				throw new Error(`the study asked for the panel id: ${view.message}`);
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
	}

	/** Each follow-up whose link is open, answered with the behaviour's probabilities. */
	private async answerFollowUps(view: View<'complete'>) {
		const behaviour = this.o.behaviour.followUp;
		if (!behaviour) return;
		for (const link of view.followUps) {
			if (!this.chance(behaviour.answer)) continue;
			const page = await this.http.followUp(link.path);
			if (page.kind !== 'open') continue;
			const answers = Object.fromEntries(
				page.followUp.questions.map((q) => {
					const yesNo =
						q.options.length === 2 && q.options.every((o) => ['0', '1'].includes(o.value));
					return [
						q.id,
						yesNo ? (this.chance(behaviour.yes) ? '1' : '0') : this.pick(q.options).value
					];
				})
			);
			const status = await this.http.answerFollowUp(link.path, answers);
			if (status !== 303) throw new Error(`the follow-up answered ${status}`);
			this.result.followUps[link.id] = answers;
		}
	}

	/** An episode's current step: read, converse, decide (taking the advice or not), rate. */
	private async episodeStep(view: View<'episode'>): Promise<number> {
		const episode = String(view.episode);
		if (view.step === 'scenario') return this.act('read', { episode });
		if (view.step === 'initial') {
			// The scenario's key from the study file, when the bot has it (else a level at random).
			const correct = this.o.protocol?.scenarios.find(
				(s) => s.participant_text === view.scenarioText
			)?.correct_disposition;
			const right = correct !== undefined && this.chance(this.o.behaviour.initialAccuracy ?? 0.5);
			const disposition = right
				? correct!
				: this.pick(view.scale.filter((d) => d.id !== correct)).id;
			this.initialOf.set(view.episode, disposition);
			return this.act('initial', { episode, disposition });
		}
		if (view.step === 'assist') {
			if (view.assistant && view.conversation && view.conversation.turnsLeft > 0)
				await this.converse(view);
			await this.telemetry(view.episode);
			return this.act('ready', { episode });
		}
		if (view.step === 'decision') {
			const advice = this.recommended.get(view.episode) ?? null;
			const initial = this.initialOf.get(view.episode);
			const judged = this.o.behaviour.adviceTaking;
			let take: boolean;
			let disposition: string;
			if (judged && initial !== undefined) {
				// Judge–advisor: switch to the advice with the probability for right or wrong advice.
				const correct = this.o.protocol?.scenarios.find(
					(s) => s.participant_text === view.scenarioText
				)?.correct_disposition;
				take = advice !== null && this.chance(advice === correct ? judged.right : judged.wrong);
				disposition = take ? advice! : initial;
			} else {
				take = advice !== null && this.chance(this.o.behaviour.uptake);
				disposition = take ? advice! : this.pick(view.scale.filter((d) => d.id !== advice)).id;
			}
			// Sent but not yet confirmed: if the answer is lost (the server killed after its
			// commit), the next page shows whether it was stored.
			this.sentDecision = {
				episode: view.episode,
				disposition,
				recommended: advice,
				tookAdvice: take
			};
			const status = await this.act('decide', { episode, disposition, conditions: ['not sure'] });
			if (status === 303) this.recordDecision();
			return status;
		}
		return this.act('questionnaire', { episode, ...this.scaleAnswers(view.items) });
	}
}
