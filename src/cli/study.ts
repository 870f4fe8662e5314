import { CLI_ACTOR } from '../lib/server/actor.ts';
import { describeChanges } from '../lib/server/protocols/diff.ts';
import { sha256OfJson } from '../lib/server/protocols/hash.ts';
import { studyJsonSchema } from '../lib/server/protocols/json-schema.ts';
import { loadStudyFile, protocolToYaml } from '../lib/server/protocols/study-file.ts';
import { preregistrationMarkdown } from '../lib/server/prereg/prereg-markdown.ts';
import {
	amend,
	changeStatus,
	preregister,
	preregistrationDocument
} from '../lib/server/prereg/prereg.service.ts';
import { getProtocol, saveProtocolDraft } from '../lib/server/studies/studies.service.ts';
import { formatProblems, ValidationError } from '../lib/server/validation/problems.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase, writeOut } from './shared.ts';

const USAGE = `usage: bedside study <command>

  validate <study.yaml>                       check a study file; every problem with its path
  import <study.yaml>                         load it as a draft (same content: no change;
                                              changed content: a new draft version)
  export <slug> [--version N] [--out FILE]    write the protocol back as study YAML
  preregister <slug> [--seed SEED]            freeze the newest draft: protocol + analysis plan,
                                              hashed; the randomization seed is committed (hash)
  amend <slug> <study.yaml> --reason TEXT     a preregistered study's changes, hash-chained
  launch | pause | close <slug>               change the study's status (launch re-checks the
                                              running configuration; close reveals the seed)
  preregistration <slug> [--format md|json] [--out FILE] [--public]
                                              the preregistration document (for OSF); --public
                                              conceals the answer key until the study closes
  schema [--out FILE]                         the study file format as JSON Schema`;

function loadOrThrow(file: string) {
	const result = loadStudyFile(file);
	if (!result.ok) throw new ValidationError(result.problems, file);
	return result.protocol;
}

export async function runStudy(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside study ${command ?? ''}`.trim(), USAGE, async () => {
		const handler =
			command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
		if (!handler) throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		return handler(rest);
	});
}

async function validateFile(rest: string[]): Promise<number> {
	const { positionals } = parseOptions(rest, {});
	if (positionals.length !== 1) throw new UsageError('give one study file');
	const file = positionals[0]!;
	const result = loadStudyFile(file);
	if (!result.ok) {
		console.error(
			`${file}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}`
		);
		return 1;
	}
	const p = result.protocol;
	console.log(
		`${file}: valid — "${p.title}": ${p.arms.length} arms, ${p.scenarios.length} scenarios, ` +
			`${p.outcomes.length} outcomes; protocol SHA-256 ${sha256OfJson(p)}`
	);
	return 0;
}

async function importFile(rest: string[]): Promise<number> {
	const { positionals } = parseOptions(rest, {});
	if (positionals.length !== 1) throw new UsageError('give one study file');
	const protocol = loadOrThrow(positionals[0]!);
	return withDatabase(async ({ db }) => {
		const saved = await saveProtocolDraft(db, protocol, CLI_ACTOR);
		const v = saved.version;
		if (saved.outcome === 'unchanged') {
			console.log(`${protocol.slug}: unchanged (version ${v.version}, SHA-256 ${v.sha256})`);
		} else if (saved.outcome === 'created') {
			console.log(`${protocol.slug}: created as a draft, version 1 (SHA-256 ${v.sha256})`);
		} else {
			console.log(
				`${protocol.slug}: new draft version ${v.version} (SHA-256 ${v.sha256}); ${saved.changes.length} change(s):`
			);
			for (const line of describeChanges(saved.changes)) console.log(`  ${line}`);
		}
		return 0;
	});
}

async function exportProtocol(rest: string[]): Promise<number> {
	const { positionals, values } = parseOptions(rest, {
		version: { type: 'string' },
		out: { type: 'string' }
	});
	if (positionals.length !== 1) throw new UsageError('give one study slug');
	const version = values.version === undefined ? undefined : Number(values.version);
	if (version !== undefined && !(Number.isInteger(version) && version >= 1)) {
		throw new UsageError('--version must be a whole number ≥ 1');
	}
	return withDatabase(async ({ db }) => {
		const { protocol } = await getProtocol(db, positionals[0]!, version);
		writeOut(protocolToYaml(protocol), values.out);
		return 0;
	});
}

async function preregisterStudy(rest: string[]): Promise<number> {
	const { positionals, values } = parseOptions(rest, { seed: { type: 'string' } });
	if (positionals.length !== 1) throw new UsageError('give one study slug');
	return withDatabase(async ({ db }) => {
		const p = await preregister(db, positionals[0]!, CLI_ACTOR, { seed: values.seed });
		console.log(`${positionals[0]}: preregistered protocol version ${p.protocolVersion}`);
		console.log(`  preregistration SHA-256  ${p.sha256}`);
		console.log(`  protocol SHA-256         ${p.protocolSha256}`);
		console.log(
			`  seed commitment SHA-256  ${p.seedSha256} (the seed is revealed when the study closes)`
		);
		return 0;
	});
}

async function amendStudy(rest: string[]): Promise<number> {
	const { positionals, values } = parseOptions(rest, { reason: { type: 'string' } });
	if (positionals.length !== 2)
		throw new UsageError('give the study slug and the amended study file');
	if (!values.reason?.trim()) throw new UsageError('an amendment needs --reason "why it changes"');
	const protocol = loadOrThrow(positionals[1]!);
	return withDatabase(async ({ db }) => {
		const p = await amend(db, positionals[0]!, protocol, values.reason!, CLI_ACTOR);
		console.log(`${positionals[0]}: amendment registered as protocol version ${p.protocolVersion}`);
		console.log(`  preregistration SHA-256  ${p.sha256}`);
		console.log(`  chained to               ${p.previousSha256}`);
		return 0;
	});
}

async function changeStudyStatus(
	rest: string[],
	command: 'launch' | 'pause' | 'close'
): Promise<number> {
	const { positionals } = parseOptions(rest, {});
	if (positionals.length !== 1) throw new UsageError('give one study slug');
	return withDatabase(async ({ db }) => {
		const status = await changeStatus(db, positionals[0]!, command, CLI_ACTOR);
		console.log(`${positionals[0]}: ${status}`);
		return 0;
	});
}

async function writePreregistration(rest: string[]): Promise<number> {
	const { positionals, values } = parseOptions(rest, {
		format: { type: 'string', default: 'md' },
		out: { type: 'string' },
		public: { type: 'boolean', default: false }
	});
	if (positionals.length !== 1) throw new UsageError('give one study slug');
	if (values.format !== 'md' && values.format !== 'json')
		throw new UsageError('--format is md or json');
	if (values.public && values.format === 'json')
		throw new UsageError('--public goes with --format md (the JSON is the full record)');
	return withDatabase(async ({ db }) => {
		const doc = await preregistrationDocument(db, positionals[0]!);
		writeOut(
			values.format === 'json'
				? JSON.stringify(doc, null, 2)
				: preregistrationMarkdown(doc, {
						concealAnswerKey: values.public && doc.study.status !== 'closed'
					}),
			values.out
		);
		return 0;
	});
}

async function writeSchema(rest: string[]): Promise<number> {
	const { values, positionals } = parseOptions(rest, { out: { type: 'string' } });
	if (positionals.length > 0) throw new UsageError('takes no arguments');
	writeOut(studyJsonSchema(), values.out);
	return 0;
}

/** Each subcommand of `bedside study` and what runs it. */
const COMMANDS: Record<string, (rest: string[]) => Promise<number>> = {
	validate: validateFile,
	import: importFile,
	export: exportProtocol,
	preregister: preregisterStudy,
	amend: amendStudy,
	launch: (rest) => changeStudyStatus(rest, 'launch'),
	pause: (rest) => changeStudyStatus(rest, 'pause'),
	close: (rest) => changeStudyStatus(rest, 'close'),
	preregistration: writePreregistration,
	schema: writeSchema
};
