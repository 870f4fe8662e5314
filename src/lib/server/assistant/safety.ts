import type { StudyProtocol } from '../protocols/study-schema.ts';

/**
 * Which of the study's emergency patterns a participant's message matches (indexes), if any.
 * Patterns are case-insensitive; the study file checked they compile.
 */
export function emergencyMatches(safety: StudyProtocol['safety'], message: string): number[] {
	if (!safety) return [];
	return safety.emergency_patterns.flatMap((p, i) =>
		new RegExp(p, 'iu').test(message) ? [i] : []
	);
}
