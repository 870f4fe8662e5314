// The export's CSV columns, declared once (docs/export-format.md says the same in words, and a
// test keeps the two in step). The reader's checks, the writers' headers and the codebook are all
// read off this table: a column added here is written, documented in codebook.json and checked.

export type ColumnType = 'id' | 'string' | 'integer' | 'number' | 'binary' | 'timestamp' | 'list';

/** Values a column may hold: a fixed list, one of the study's own lists, or a unit. */
export type Allowed = readonly string[] | 'arms' | 'scenarios' | 'scale' | { unit: string };

export interface Column {
	name: string;
	type: ColumnType;
	meaning: string;
	values?: Allowed;
	/** May the cell be empty (a missing value)? */
	optional?: boolean;
	/** The column need not be in the file (the writers add it; the reader ignores it). */
	extra?: boolean;
	/** Each non-empty cell names a row of participants.csv. */
	participant?: boolean;
	/** The smallest whole number allowed (integer columns; default 0). */
	min?: number;
	/** `values` lists what Bedside writes; other values are allowed (added by hand). */
	open?: boolean;
}

export const PARTICIPANT_STATUSES = [
	'consented',
	'allocated',
	'in_progress',
	'completed',
	'withdrawn',
	'excluded'
] as const;

export const ENDINGS = [
	'completed',
	'failed attention check',
	'withdrew',
	'declined consent',
	'screened out',
	'excluded',
	'in progress'
] as const;

export const DEVIATION_KINDS = [
	'assistant_failure',
	'budget_reached',
	'turn_cap',
	'token_cap',
	'reply_truncated'
] as const;

const participant: Column = {
	name: 'participant_id',
	type: 'id',
	meaning: 'participant',
	participant: true
};

export const EXPORT_FILES = {
	'participants.csv': [
		{
			name: 'participant_id',
			type: 'id',
			meaning: 'pseudonymous participant id (random; not the panel id)'
		},
		{
			name: 'arm_id',
			type: 'id',
			meaning: 'the arm the participant was allocated to; empty if never allocated',
			values: 'arms',
			optional: true
		},
		{
			name: 'stratum',
			type: 'string',
			meaning: 'randomization stratum (screening answers), e.g. chatbot_use=often',
			optional: true
		},
		{
			name: 'status',
			type: 'string',
			meaning: 'where the participant ended',
			values: PARTICIPANT_STATUSES
		},
		{
			name: 'consented_at',
			type: 'timestamp',
			meaning: 'consent given (ISO 8601 UTC)',
			optional: true
		},
		{
			name: 'allocated_at',
			type: 'timestamp',
			meaning: 'arm allocated (ISO 8601 UTC)',
			optional: true
		},
		{
			name: 'completed_at',
			type: 'timestamp',
			meaning: 'study completed (ISO 8601 UTC)',
			optional: true
		},
		{
			name: 'exclusion_reason',
			type: 'string',
			meaning: 'why the participant is excluded (e.g. "ineligible at screening")',
			optional: true
		},
		{
			name: 'ending',
			type: 'string',
			meaning: "how the session ended in the panel's terms (what the panel is told)",
			values: ENDINGS,
			optional: true,
			extra: true
		}
	],
	'episodes.csv': [
		participant,
		{
			name: 'episode',
			type: 'integer',
			meaning: 'order in which the participant saw the scenario, from 1',
			min: 1
		},
		{ name: 'scenario_id', type: 'id', meaning: 'scenario', values: 'scenarios' },
		{
			name: 'disposition',
			type: 'string',
			meaning:
				"the participant's decision on the study's scale (least to most urgent); empty if not submitted",
			values: 'scale',
			optional: true
		},
		{
			name: 'disposition_correct',
			type: 'binary',
			meaning: "1 if the decision equals the scenario's correct disposition",
			optional: true
		},
		{
			name: 'conditions_text',
			type: 'list',
			meaning: 'possible causes as the participant typed them (empty when free text is left out)',
			optional: true
		},
		{
			name: 'conditions_coded',
			type: 'list',
			meaning: "the scenario's condition ids the typed text names (rule coder)",
			optional: true
		},
		{
			name: 'condition_correct',
			type: 'binary',
			meaning: '1 when at least one relevant condition was named',
			optional: true
		},
		{
			name: 'started_at',
			type: 'timestamp',
			meaning: 'first view of the scenario (else allocation time)',
			optional: true
		},
		{ name: 'submitted_at', type: 'timestamp', meaning: 'decision submitted', optional: true },
		{
			name: 'initial_disposition',
			type: 'string',
			meaning:
				"the participant's decision before the assistant (or, in control, before whatever they would normally use), when the protocol asks for one",
			values: 'scale',
			optional: true,
			extra: true
		},
		{
			name: 'initial_disposition_correct',
			type: 'binary',
			meaning: "1 if the initial decision equals the scenario's correct disposition",
			optional: true,
			extra: true
		},
		{
			name: 'user_messages',
			type: 'integer',
			meaning:
				'messages the participant sent to the assistant in this episode (0 in an arm without one); what "used the assistant" counts',
			optional: true,
			extra: true
		},
		{
			name: 'pasted_chars',
			type: 'integer',
			meaning:
				'characters pasted into the page during the episode (the length only; never the text)',
			optional: true,
			extra: true
		},
		{
			name: 'hidden_events',
			type: 'integer',
			meaning: 'times the page was hidden (another tab or app) during the episode',
			optional: true,
			extra: true
		},
		{
			name: 'typing_seconds',
			type: 'number',
			meaning:
				"seconds from a field's first key to its form's submission, summed over the episode's chat and answer fields",
			values: { unit: 'seconds' },
			optional: true,
			extra: true
		},
		{
			name: 'assist_seconds',
			type: 'number',
			meaning:
				'seconds from the start of the assistant (or usual-sources) step to the decision, as the server timed them',
			values: { unit: 'seconds' },
			optional: true,
			extra: true
		}
	],
	'measures.csv': [
		participant,
		{
			name: 'episode',
			type: 'integer',
			meaning: 'episode; empty for a participant-level measure',
			optional: true,
			min: 1
		},
		{ name: 'measure', type: 'string', meaning: 'measure name (see the measure entries below)' },
		{
			name: 'kind',
			type: 'string',
			meaning: 'proxy, clinical or covariate',
			values: ['proxy', 'clinical', 'covariate']
		},
		{
			name: 'value',
			type: 'string',
			meaning: 'numeric where the measure is numeric, else its text',
			optional: true
		},
		{ name: 'recorded_at', type: 'timestamp', meaning: 'recorded', optional: true }
	],
	'recommendations.csv': [
		{
			name: 'source',
			type: 'string',
			meaning: 'conversation: what the assistant told a participant; benchmark: the model alone',
			values: ['conversation', 'benchmark']
		},
		{ ...participant, meaning: 'participant (conversation only)', optional: true },
		{
			name: 'episode',
			type: 'integer',
			meaning: 'episode (conversation only)',
			optional: true,
			min: 1
		},
		{ name: 'run_id', type: 'string', meaning: 'benchmark run (benchmark only)', optional: true },
		{ name: 'arm_id', type: 'id', meaning: 'arm whose assistant recommended', values: 'arms' },
		{ name: 'scenario_id', type: 'id', meaning: 'scenario', values: 'scenarios' },
		{ name: 'coder', type: 'string', meaning: 'rule, model:<grader model> or person:<user id>' },
		{
			name: 'disposition',
			type: 'string',
			meaning: 'the disposition recommended; empty when none was',
			values: 'scale',
			optional: true
		},
		{
			name: 'disposition_correct',
			type: 'binary',
			meaning:
				'1 if the recommendation equals the correct disposition; 0 when none was recommended',
			optional: true
		},
		{
			name: 'conditions_coded',
			type: 'list',
			meaning: 'relevant condition ids the assistant named',
			optional: true
		},
		{
			name: 'condition_correct',
			type: 'binary',
			meaning: '1 when at least one relevant condition was named',
			optional: true
		},
		{
			name: 'mode',
			type: 'string',
			meaning: 'benchmark stage',
			values: ['physician', 'patient-first-turn', 'simulated'],
			optional: true,
			extra: true
		},
		{
			name: 'repeat',
			type: 'integer',
			meaning: 'benchmark repeat, from 1',
			optional: true,
			min: 1,
			extra: true
		}
	],
	'messages.csv': [
		participant,
		{ name: 'episode', type: 'integer', meaning: 'episode', min: 1 },
		{
			name: 'turn',
			type: 'integer',
			meaning: 'turn, from 1 (a message and its reply share a turn)',
			min: 1
		},
		{ name: 'role', type: 'string', meaning: 'who wrote it', values: ['user', 'assistant'] },
		{
			name: 'content',
			type: 'string',
			meaning: 'the message (empty when free text is left out; identifiers replaced when scrubbed)',
			optional: true
		},
		{ name: 'created_at', type: 'timestamp', meaning: 'stored' },
		{
			name: 'model',
			type: 'string',
			meaning: 'model the endpoint reported (assistant messages)',
			optional: true
		},
		{
			name: 'latency_ms',
			type: 'integer',
			meaning: 'time to the complete reply',
			values: { unit: 'milliseconds' },
			optional: true
		},
		{
			name: 'tokens_in',
			type: 'integer',
			meaning: 'prompt tokens of the call that produced the reply',
			optional: true
		},
		{
			name: 'tokens_out',
			type: 'integer',
			meaning: 'completion tokens of that call',
			optional: true
		}
	],
	'deviations.csv': [
		{
			name: 'kind',
			type: 'string',
			meaning: 'protocol deviation (Bedside records these kinds; others may be added by hand)',
			values: DEVIATION_KINDS,
			open: true
		},
		{ name: 'arm_id', type: 'id', meaning: 'arm', values: 'arms', optional: true },
		{
			...participant,
			meaning: 'participant (when one was affected)',
			optional: true
		},
		{
			name: 'episode',
			type: 'integer',
			meaning: 'episode (when one was affected)',
			optional: true,
			min: 1
		},
		{ name: 'created_at', type: 'timestamp', meaning: 'recorded', optional: true },
		{ name: 'details', type: 'string', meaning: 'JSON: attempts, error, tokens', optional: true }
	],
	'follow_ups.csv': [
		participant,
		{ name: 'follow_up', type: 'id', meaning: 'the follow-up wave (study.json follow_ups)' },
		{ name: 'answered_at', type: 'timestamp', meaning: 'answers recorded (ISO 8601 UTC)' },
		{
			name: 'days_since_completion',
			type: 'number',
			meaning: 'time from completing the main session to the answers',
			values: { unit: 'days' }
		}
	]
} as const satisfies Record<string, readonly Column[]>;

export type ExportFileName = keyof typeof EXPORT_FILES;

/** A file's header, in the order the writers write it. */
export function columnNames(file: ExportFileName): string[] {
	return EXPORT_FILES[file].map((c) => c.name);
}

/** The columns a reader requires in a file (all but those the writers add beyond the format). */
export function requiredColumns(file: ExportFileName): string[] {
	return (EXPORT_FILES[file] as readonly Column[]).filter((c) => !c.extra).map((c) => c.name);
}
