import fs from 'node:fs';
import { DEFAULT_BEHAVIOUR, type BotBehaviour } from '../bots/bot.ts';
import { runBots, type BotRunSummary } from '../bots/run-bots.ts';
import { loadStudyFile } from '../lib/server/protocols/study-file.ts';
import { formatProblems } from '../lib/server/validation/problems.ts';
import { parseOptions, runSubcommand, UsageError, writeOut } from './shared.ts';

const USAGE = `usage: bedside bots <slug> --base-url URL [--n 500] [--concurrency 100] [--seed S]
         [--uptake 0.6] [--attention-failure 0.05] [--dropout 0.05] [--reload 0.1]
         [--double-submit 0.05] [--back 0.02] [--messages 1] [--switch-device 0]
         [--shared-browser 0] [--initial-accuracy 0.5] [--take-right-advice P]
         [--take-wrong-advice P] [--paste 0] [--leave-tab 0] [--decline 0] [--screen-out 0]
         [--withdraw 0] [--follow-up P --follow-up-yes P] [--protocol FILE] [--json FILE]

  Simulated participants through the real HTTP flow of a recruiting study: consent, screening,
  allocation, the scenario, the chat (LLM arms), the decision, questionnaires, the attention
  check and the completion code. Each bot takes the assistant's advice with probability
  --uptake, fails the attention check with --attention-failure, leaves early with --dropout,
  reloads the page (--reload), double-clicks a button (--double-submit) and goes back to send
  the previous form again (--back) at each step with those probabilities; moves to a second
  device part-way and back, with the resume code (--switch-device), or starts in a browser that
  someone else used first (--shared-browser), with those probabilities; in a study that asks
  for a decision before the advice, answers it right with --initial-accuracy and, given both
  --take-right-advice and --take-wrong-advice, switches to the advice with those probabilities
  (else keeps its first answer); pastes text (--paste) and leaves the tab (--leave-tab) per
  episode; declines consent (--decline), gives an ineligible screening answer (--screen-out),
  leaves with "Leave the study" (--withdraw); after completing, answers each follow-up whose
  link is open with --follow-up, saying yes to yes/no questions with --follow-up-yes; through
  failures (the
  server restarting, 503, the model failing) a bot waits and tries again for up to a minute. --protocol (default studies/<slug>/study.yaml when it exists) gives the
  bots eligible screening answers and the attention keys. Prints a summary with latencies; --json
  writes every bot's record. Bots are participants: run them only against a test deployment.`;

function rate(name: string, value: string | undefined, fallback: number): number {
	if (value === undefined) return fallback;
	const x = Number(value);
	if (!Number.isFinite(x) || x < 0 || x > 1)
		throw new UsageError(`--${name} must be a probability between 0 and 1 (got "${value}")`);
	return x;
}

function count(name: string, value: string | undefined, fallback: number, max: number): number {
	if (value === undefined) return fallback;
	const x = Number(value);
	if (!Number.isInteger(x) || x < 1 || x > max)
		throw new UsageError(`--${name} must be a whole number from 1 to ${max} (got "${value}")`);
	return x;
}

const ms = (x: number | null) => (x === null ? '—' : `${x.toFixed(0)} ms`);

export function formatSummary(s: BotRunSummary): string {
	const lines = [
		`${s.n} bots, ${s.concurrency} at a time, seed ${s.seed}: ${s.seconds.toFixed(1)} s`,
		`  outcomes: ${Object.entries(s.outcomes)
			.filter(([, n]) => n > 0)
			.map(([o, n]) => `${o} ${n}`)
			.join(', ')}`,
		`  took the advice: ${s.observedUptake === null ? '—' : s.observedUptake.toFixed(3)} (asked for ${s.behaviour.uptake})`,
		'  latency (p50 / p99 / max):',
		...Object.entries(s.latency)
			.filter(([, l]) => l.count > 0)
			.map(
				([kind, l]) =>
					`    ${kind.padEnd(16)} ${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.max)}  (${l.count} requests)`
			)
	];
	if (s.errors.length > 0)
		lines.push(`  errors (${s.errors.length}):`, ...s.errors.slice(0, 10).map((e) => `    ${e}`));
	return lines.join('\n');
}

/** Whether the study link takes participants, asked once before any bot starts. */
async function studyLinkStatus(baseUrl: string, slug: string): Promise<string> {
	const url = `${baseUrl}/s/${encodeURIComponent(slug)}`;
	let response: Response;
	try {
		response = await fetch(`${url}/__data.json`, { signal: AbortSignal.timeout(30_000) });
	} catch (e) {
		return `cannot reach ${baseUrl}: ${(e as Error).message}`;
	}
	const body = await response.text();
	if (response.status === 404 || body.includes('does not exist'))
		return `no study "${slug}" at ${baseUrl} (the study link answers 404)`;
	if (response.status >= 400) return `the study link ${url} answers ${response.status}`;
	if (body.includes('"closed"'))
		return `study "${slug}" is not taking participants (not recruiting)`;
	return 'open';
}

export async function runBotsCommand(args: string[]): Promise<number> {
	return runSubcommand('bedside bots', USAGE, async () => {
		const { values, positionals } = parseOptions(args, {
			'base-url': { type: 'string' },
			n: { type: 'string' },
			concurrency: { type: 'string' },
			seed: { type: 'string' },
			uptake: { type: 'string' },
			'attention-failure': { type: 'string' },
			dropout: { type: 'string' },
			reload: { type: 'string' },
			'double-submit': { type: 'string' },
			back: { type: 'string' },
			messages: { type: 'string' },
			'switch-device': { type: 'string' },
			'shared-browser': { type: 'string' },
			'initial-accuracy': { type: 'string' },
			'take-right-advice': { type: 'string' },
			'take-wrong-advice': { type: 'string' },
			paste: { type: 'string' },
			'leave-tab': { type: 'string' },
			decline: { type: 'string' },
			'screen-out': { type: 'string' },
			withdraw: { type: 'string' },
			'follow-up': { type: 'string' },
			'follow-up-yes': { type: 'string' },
			protocol: { type: 'string' },
			json: { type: 'string' }
		});
		if (positionals.length !== 1) throw new UsageError('give one study slug');
		const slug = positionals[0]!;
		const baseUrl = values['base-url'];
		if (!baseUrl || !/^https?:\/\/[^/]+$/.test(baseUrl.replace(/\/$/, '')))
			throw new UsageError('--base-url must be the server address, e.g. http://127.0.0.1:3000');
		const behaviour: BotBehaviour = {
			uptake: rate('uptake', values.uptake, DEFAULT_BEHAVIOUR.uptake),
			attentionFailure: rate(
				'attention-failure',
				values['attention-failure'],
				DEFAULT_BEHAVIOUR.attentionFailure
			),
			dropout: rate('dropout', values.dropout, DEFAULT_BEHAVIOUR.dropout),
			reload: rate('reload', values.reload, DEFAULT_BEHAVIOUR.reload),
			doubleSubmit: rate('double-submit', values['double-submit'], DEFAULT_BEHAVIOUR.doubleSubmit),
			back: rate('back', values.back, DEFAULT_BEHAVIOUR.back),
			messages: count('messages', values.messages, DEFAULT_BEHAVIOUR.messages, 50),
			switchDevice: rate('switch-device', values['switch-device'], DEFAULT_BEHAVIOUR.switchDevice),
			sharedBrowser: rate(
				'shared-browser',
				values['shared-browser'],
				DEFAULT_BEHAVIOUR.sharedBrowser
			),
			initialAccuracy: rate('initial-accuracy', values['initial-accuracy'], 0.5),
			...(values.paste !== undefined && { paste: rate('paste', values.paste, 0) }),
			...(values['leave-tab'] !== undefined && {
				leaveTab: rate('leave-tab', values['leave-tab'], 0)
			}),
			...(values.decline !== undefined && { decline: rate('decline', values.decline, 0) }),
			...(values['screen-out'] !== undefined && {
				screenOut: rate('screen-out', values['screen-out'], 0)
			}),
			...(values.withdraw !== undefined && { withdraw: rate('withdraw', values.withdraw, 0) }),
			...(values['follow-up'] !== undefined && {
				followUp: {
					answer: rate('follow-up', values['follow-up'], 0),
					yes: rate('follow-up-yes', values['follow-up-yes'], 0.5)
				}
			})
		};
		const right = values['take-right-advice'];
		const wrong = values['take-wrong-advice'];
		if ((right === undefined) !== (wrong === undefined))
			throw new UsageError('give both --take-right-advice and --take-wrong-advice, or neither');
		if (right !== undefined && wrong !== undefined)
			behaviour.adviceTaking = {
				right: rate('take-right-advice', right, 0),
				wrong: rate('take-wrong-advice', wrong, 0)
			};
		const protocolFile =
			values.protocol ??
			(fs.existsSync(`studies/${slug}/study.yaml`) ? `studies/${slug}/study.yaml` : undefined);
		let protocol;
		if (protocolFile) {
			const loaded = loadStudyFile(protocolFile);
			if (!loaded.ok) {
				console.error(`bedside bots: ${protocolFile}:\n${formatProblems(loaded.problems)}`);
				return 1;
			}
			protocol = loaded.protocol;
		}
		const n = count('n', values.n, 500, 1_000_000);
		const open = await studyLinkStatus(baseUrl.replace(/\/$/, ''), slug);
		if (open !== 'open') {
			console.error(`bedside bots: ${open}`);
			return 1;
		}
		const summary = await runBots({
			baseUrl: baseUrl.replace(/\/$/, ''),
			slug,
			n,
			concurrency: count('concurrency', values.concurrency, 100, 10_000),
			seed: values.seed ?? 'bots',
			behaviour,
			protocol,
			onBot: (done) => {
				if (process.stderr.isTTY) process.stderr.write(`\r${done}/${n} bots done`);
			}
		});
		if (process.stderr.isTTY) process.stderr.write('\n');
		console.log(formatSummary(summary));
		if (values.json) writeOut(JSON.stringify(summary, null, 2), values.json);
		return summary.outcomes.error > 0 ? 1 : 0;
	});
}
