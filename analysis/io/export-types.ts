import fs from 'node:fs';
import path from 'node:path';
import type { PARTICIPANT_STATUSES } from './columns.ts';

// What the reader hands the analysis: the study and its rows, typed; and how it reports what is
// wrong with an export (every problem with its file, row and column).

/** Where an export's files are read from: a file's text, or undefined when it is not there. */
export interface ExportSource {
	read(file: string): string | undefined;
}

/** An export folder on disk. */
export function folderSource(dir: string): ExportSource {
	return {
		read: (file) => {
			const full = path.join(dir, file);
			return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
		}
	};
}

/** Files already in memory, by name. */
export function memorySource(files: ReadonlyMap<string, string>): ExportSource {
	return { read: (file) => files.get(file) };
}

export interface ExportProblem {
	file: string;
	row?: number;
	column?: string;
	message: string;
}

export class ExportError extends Error {
	constructor(readonly problems: ExportProblem[]) {
		super(
			`the export has ${problems.length} problem(s):\n` +
				problems
					.slice(0, 50)
					.map(
						(p) =>
							`  ${p.file}${p.row ? ` row ${p.row}` : ''}${p.column ? ` column ${p.column}` : ''}: ${p.message}`
					)
					.join('\n') +
				(problems.length > 50 ? `\n  … and ${problems.length - 50} more` : '')
		);
		this.name = 'ExportError';
	}
}

export interface ArmInfo {
	id: string;
	kind: 'control' | 'llm_assisted' | 'llm_alone' | 'other';
	label: string;
}

export interface StudyInfo {
	slug: string;
	title: string;
	protocolSha256: string | null;
	preregistrationSha256: string | null;
	dispositionScale: string[];
	arms: ArmInfo[];
	scenarios: { id: string; correctDisposition: string }[];
	outcomes: { name: string; role: 'primary' | 'secondary'; kind: 'clinical' | 'proxy' }[];
	plan: {
		alpha: number;
		test: 'chisq' | 'chisq_yates' | 'fisher';
		bootstrap: number;
		seed: number;
		population: 'intention_to_treat' | 'per_protocol';
		primary_model: 'difference' | 'mixed_logistic';
		/** Messages an episode needs for the participant to have "used the assistant" (default 1). */
		used_assistant_min_messages: number;
		/** Equivalence margins per outcome (absolute difference in proportions). */
		equivalence_margins: Record<string, number>;
	};
	/** The plan fields the export did not give, for which the defaults stand in. */
	planDefaults: string[];
	/** People who declined consent (counted, not exported); null when the export does not say. */
	enrolment: { declined: number | null };
	/** The protocol's follow-up waves (empty: none). */
	followUps?: { id: string; afterDays: number; windowDays: number }[];
	/** When the export was made (ISO 8601; null in an export that does not say). */
	exportedAt?: string | null;
}

export interface Participant {
	id: string;
	arm: string;
	stratum: string;
	status: (typeof PARTICIPANT_STATUSES)[number];
	exclusionReason: string;
	/** ISO 8601, or '' when the participant did not complete. */
	completedAt?: string;
}

/** One participant's answers to one follow-up wave (follow_ups.csv). */
export interface FollowUpResponse {
	participant: string;
	followUp: string;
	answeredAt: string;
	days: number;
}

export interface Episode {
	participant: string;
	episode: number;
	scenario: string;
	disposition: string | null;
	dispositionCorrect: 0 | 1 | null;
	conditionCorrect: 0 | 1 | null;
	submitted: boolean;
	/** Messages sent to the assistant (null when the export does not say). */
	userMessages: number | null;
	/** The decision before the advice, when the protocol asked for one. */
	initialDisposition: string | null;
	initialDispositionCorrect: 0 | 1 | null;
	/** Interaction integrity (null when the export does not say). */
	pastedChars?: number | null;
	hiddenEvents?: number | null;
	typingSeconds?: number | null;
	assistSeconds?: number | null;
}

export interface Measure {
	participant: string;
	episode: number | null;
	measure: string;
	kind: 'proxy' | 'clinical' | 'covariate';
	value: number | null;
	text: string;
}

export interface Recommendation {
	source: 'conversation' | 'benchmark';
	participant: string | null;
	episode: number | null;
	runId: string | null;
	arm: string;
	scenario: string;
	coder: string;
	disposition: string | null;
	dispositionCorrect: 0 | 1 | null;
	conditionCorrect: 0 | 1 | null;
}

/** A protocol deviation the platform recorded (deviations.csv). */
export interface Deviation {
	kind: string;
	arm: string;
	participant: string;
	episode: number | null;
}

export interface StudyExport {
	study: StudyInfo;
	participants: Participant[];
	episodes: Episode[];
	measures: Measure[];
	recommendations: Recommendation[];
	/** Null when the export has no deviations.csv (a hand-made export need not). */
	deviations: Deviation[] | null;
	/** Null when the export has no follow_ups.csv. */
	followUps?: FollowUpResponse[] | null;
}
