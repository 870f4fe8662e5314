import type { Participant, StudyExport } from '../io/export-reader.ts';
import type { ConsortFollowUp } from '../result.ts';

// Loss to follow-up, per wave and arm (CONSORT 2010 item 13b): of those who completed the main
// session (the only ones invited), who answered; who can still answer (the link is open at the
// time of the export, or not yet open); and who was lost (the link expired unanswered).

const DAY_MS = 86_400_000;

export function followUpFlow(data: StudyExport, arms: string[]): ConsortFollowUp[] {
	const waves = data.study.followUps ?? [];
	if (waves.length === 0) return [];
	const answered = new Set(
		(data.followUps ?? []).map((r) => `${r.participant}\u0000${r.followUp}`)
	);
	const exportedAt = data.study.exportedAt ? Date.parse(data.study.exportedAt) : Number.NaN;
	return waves.map((wave) => ({
		follow_up: wave.id,
		after_days: wave.afterDays,
		window_days: wave.windowDays,
		arms: arms.map((arm) => {
			const invited = data.participants.filter((p) => p.arm === arm && p.status === 'completed');
			let yes = 0;
			let pending = 0;
			for (const p of invited) {
				if (answered.has(`${p.id}\u0000${wave.id}`)) yes++;
				else if (stillOpen(p, wave, exportedAt)) pending++;
			}
			return {
				arm,
				invited: invited.length,
				answered: yes,
				pending,
				lost: invited.length - yes - pending
			};
		})
	}));
}

/** Whether the participant's link closes after the export was made (unknown times: open). */
function stillOpen(
	p: Participant,
	wave: { afterDays: number; windowDays: number },
	exportedAt: number
): boolean {
	const completed = p.completedAt ? Date.parse(p.completedAt) : Number.NaN;
	if (Number.isNaN(completed) || Number.isNaN(exportedAt)) return true;
	return completed + (wave.afterDays + wave.windowDays) * DAY_MS > exportedAt;
}
