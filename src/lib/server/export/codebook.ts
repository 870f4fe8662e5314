import { PARTICIPANT_STATUSES } from '../../../../analysis/io/export-reader.ts';
import type { StudyProtocol } from '../protocols/study-schema.ts';

// codebook.json: every column of every file, with its type, meaning and allowed values or unit
// (docs/export-format.md), plus one entry per measure the study defines.

export interface CodebookEntry {
	file: string;
	column: string;
	type: 'string' | 'integer' | 'number' | 'binary' | 'timestamp' | 'list' | 'id';
	meaning: string;
	values?: string[] | string;
}

const c = (
	file: string,
	column: string,
	type: CodebookEntry['type'],
	meaning: string,
	values?: CodebookEntry['values']
): CodebookEntry => ({ file, column, type, meaning, ...(values !== undefined && { values }) });

export function codebookFor(protocol: StudyProtocol) {
	const arms = protocol.arms.map((a) => a.id);
	const scenarios = protocol.scenarios.map((s) => s.id);
	const scale = protocol.disposition_scale.map((d) => d.id);
	const columns: CodebookEntry[] = [
		c(
			'participants.csv',
			'participant_id',
			'id',
			'pseudonymous participant id (random; not the panel id)'
		),
		c(
			'participants.csv',
			'arm_id',
			'id',
			'the arm the participant was allocated to; empty if never allocated',
			arms
		),
		c(
			'participants.csv',
			'stratum',
			'string',
			'randomization stratum (screening answers), e.g. chatbot_use=often'
		),
		c('participants.csv', 'status', 'string', 'where the participant ended', [
			...PARTICIPANT_STATUSES
		]),
		c('participants.csv', 'consented_at', 'timestamp', 'consent given (ISO 8601 UTC)'),
		c('participants.csv', 'allocated_at', 'timestamp', 'arm allocated (ISO 8601 UTC)'),
		c('participants.csv', 'completed_at', 'timestamp', 'study completed (ISO 8601 UTC)'),
		c(
			'participants.csv',
			'exclusion_reason',
			'string',
			'why the participant is excluded (e.g. "ineligible at screening")'
		),
		c('episodes.csv', 'participant_id', 'id', 'participant'),
		c(
			'episodes.csv',
			'episode',
			'integer',
			'order in which the participant saw the scenario, from 1'
		),
		c('episodes.csv', 'scenario_id', 'id', 'scenario', scenarios),
		c(
			'episodes.csv',
			'disposition',
			'string',
			"the participant's decision on the study's scale (least to most urgent); empty if not submitted",
			scale
		),
		c(
			'episodes.csv',
			'disposition_correct',
			'binary',
			"1 if the decision equals the scenario's correct disposition"
		),
		c(
			'episodes.csv',
			'conditions_text',
			'list',
			'possible causes as the participant typed them (empty when free text is left out)'
		),
		c(
			'episodes.csv',
			'conditions_coded',
			'list',
			"the scenario's condition ids the typed text names (rule coder)"
		),
		c(
			'episodes.csv',
			'condition_correct',
			'binary',
			'1 when at least one relevant condition was named'
		),
		c(
			'episodes.csv',
			'started_at',
			'timestamp',
			'first view of the scenario (else allocation time)'
		),
		c('episodes.csv', 'submitted_at', 'timestamp', 'decision submitted'),
		c('measures.csv', 'participant_id', 'id', 'participant'),
		c('measures.csv', 'episode', 'integer', 'episode; empty for a participant-level measure'),
		c('measures.csv', 'measure', 'string', 'measure name (see the measure entries below)'),
		c('measures.csv', 'kind', 'string', 'proxy, clinical or covariate', [
			'proxy',
			'clinical',
			'covariate'
		]),
		c('measures.csv', 'value', 'string', 'numeric where the measure is numeric, else its text'),
		c('measures.csv', 'recorded_at', 'timestamp', 'recorded'),
		c(
			'recommendations.csv',
			'source',
			'string',
			'conversation: what the assistant told a participant; benchmark: the model alone',
			['conversation', 'benchmark']
		),
		c('recommendations.csv', 'participant_id', 'id', 'participant (conversation only)'),
		c('recommendations.csv', 'episode', 'integer', 'episode (conversation only)'),
		c('recommendations.csv', 'run_id', 'string', 'benchmark run (benchmark only)'),
		c('recommendations.csv', 'arm_id', 'id', 'arm whose assistant recommended', arms),
		c('recommendations.csv', 'scenario_id', 'id', 'scenario', scenarios),
		c('recommendations.csv', 'coder', 'string', 'rule, model:<grader model> or person:<user id>'),
		c(
			'recommendations.csv',
			'disposition',
			'string',
			'the disposition recommended; empty when none was',
			scale
		),
		c(
			'recommendations.csv',
			'disposition_correct',
			'binary',
			'1 if the recommendation equals the correct disposition; 0 when none was recommended'
		),
		c(
			'recommendations.csv',
			'conditions_coded',
			'list',
			'relevant condition ids the assistant named'
		),
		c(
			'recommendations.csv',
			'condition_correct',
			'binary',
			'1 when at least one relevant condition was named'
		),
		c('recommendations.csv', 'mode', 'string', 'benchmark stage', [
			'physician',
			'patient-first-turn',
			'simulated'
		]),
		c('recommendations.csv', 'repeat', 'integer', 'benchmark repeat, from 1'),
		c('messages.csv', 'participant_id', 'id', 'participant'),
		c('messages.csv', 'episode', 'integer', 'episode'),
		c('messages.csv', 'turn', 'integer', 'turn, from 1 (a message and its reply share a turn)'),
		c('messages.csv', 'role', 'string', 'who wrote it', ['user', 'assistant']),
		c(
			'messages.csv',
			'content',
			'string',
			'the message (empty when free text is left out; identifiers replaced when scrubbed)'
		),
		c('messages.csv', 'created_at', 'timestamp', 'stored'),
		c('messages.csv', 'model', 'string', 'model the endpoint reported (assistant messages)'),
		c('messages.csv', 'latency_ms', 'integer', 'time to the complete reply', 'milliseconds'),
		c('messages.csv', 'tokens_in', 'integer', 'prompt tokens of the call that produced the reply'),
		c('messages.csv', 'tokens_out', 'integer', 'completion tokens of that call'),
		c('deviations.csv', 'kind', 'string', 'protocol deviation', [
			'assistant_failure',
			'budget_reached'
		]),
		c('deviations.csv', 'arm_id', 'id', 'arm', arms),
		c('deviations.csv', 'participant_id', 'id', 'participant (when one was affected)'),
		c('deviations.csv', 'episode', 'integer', 'episode (when one was affected)'),
		c('deviations.csv', 'created_at', 'timestamp', 'recorded'),
		c('deviations.csv', 'details', 'string', 'JSON: attempts, error, tokens')
	];
	const measures = [
		...protocol.screening
			.filter((q) => q.covariate)
			.map((q) => ({
				measure: q.id,
				kind: 'covariate',
				meaning: q.text,
				values: q.type === 'yes_no' ? ['yes', 'no'] : (q.options ?? []).map((o) => o.value)
			})),
		...protocol.questionnaires.per_episode.map((i) => ({
			measure: i.id,
			kind: i.kind,
			meaning: `${i.text} (per episode)`,
			values: `${i.scale.min}–${i.scale.max}`
		})),
		...protocol.questionnaires.end_of_study.map((i) => ({
			measure: i.id,
			kind: i.kind,
			meaning: `${i.text} (end of study)`,
			values: `${i.scale.min}–${i.scale.max}`
		})),
		...protocol.attention_checks.map((a) => ({
			measure: `attention_${a.id}`,
			kind: 'covariate',
			meaning: `attention check: ${a.text}`,
			values: ['1 correct', '0 not']
		}))
	];
	return {
		format: 'bedside-codebook/1',
		text_cells:
			"Unless the export was made raw (export_report.json: options.formula_safe false), a text cell that a spreadsheet would run as a formula (one starting with =, +, -, @, a tab or a carriage return) begins with a single quote ('), as OWASP advises against CSV injection; remove that one leading quote to get the stored text. Numbers are never changed.",
		columns,
		measures
	};
}
