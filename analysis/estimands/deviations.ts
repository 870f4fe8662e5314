import type { StudyExport } from '../io/export-reader.ts';
import type { Deviations } from '../result.ts';

// The protocol deviations the platform recorded (deviations.csv), counted by kind and arm for the
// report: a reader of a trial report must see every one, not only those that changed an analysis.

export function deviationsBlock(data: StudyExport): Deviations {
	if (data.deviations === null) return { recorded: false, total: 0, by_kind: [] };
	const counts = new Map<string, { kind: string; arm: string; count: number }>();
	for (const d of data.deviations) {
		const key = `${d.kind}\u0000${d.arm}`;
		const row = counts.get(key) ?? { kind: d.kind, arm: d.arm, count: 0 };
		row.count++;
		counts.set(key, row);
	}
	return {
		recorded: true,
		total: data.deviations.length,
		by_kind: [...counts.values()].sort(
			(a, b) => a.kind.localeCompare(b.kind) || a.arm.localeCompare(b.arm)
		)
	};
}
