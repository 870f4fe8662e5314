import type { Integrity } from '../result.ts';
import type { AnalysisContext } from './context.ts';

// Interaction integrity by arm (issue #15, "contamination"): did participants paste text into the
// study (a control participant pasting a chatbot's answer, an LLM-arm participant pasting a
// prompt written elsewhere), leave the page, or decide implausibly fast? Shares of the arm's
// analysed episodes, from the export's per-episode counts; null when the export lacks them.

/** Below this many seconds from the assistant step to the decision, an episode is implausibly fast. */
export const FAST_EPISODE_SECONDS = 10;

export function integrityBlock(ctx: AnalysisContext): Integrity[] {
	return ctx.peopleArms.flatMap((a): Integrity[] => {
		const episodes = ctx
			.episodesOfArm(a.id)
			.filter((e) => e.pastedChars !== undefined && e.pastedChars !== null);
		if (episodes.length === 0) return [];
		const n = episodes.length;
		const share = (f: (e: (typeof episodes)[number]) => boolean) => episodes.filter(f).length / n;
		const timed = episodes.filter((e) => e.assistSeconds !== null && e.assistSeconds !== undefined);
		const typed = episodes
			.map((e) => e.typingSeconds)
			.filter((t): t is number => t !== null && t !== undefined && t > 0)
			.sort((x, y) => x - y);
		return [
			{
				arm: a.id,
				n,
				pasted_share: share((e) => e.pastedChars! > 0),
				pasted_chars_mean: episodes.reduce((s, e) => s + e.pastedChars!, 0) / n,
				left_page_share: share((e) => (e.hiddenEvents ?? 0) > 0),
				fast_share: timed.length
					? timed.filter((e) => e.assistSeconds! < FAST_EPISODE_SECONDS).length / timed.length
					: null,
				median_typing_seconds: typed.length ? typed[Math.floor((typed.length - 1) / 2)]! : null,
				median_assist_seconds: timed.length
					? [...timed.map((e) => e.assistSeconds!)].sort((x, y) => x - y)[
							Math.floor((timed.length - 1) / 2)
						]!
					: null
			}
		];
	});
}
