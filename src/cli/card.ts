import fs from 'node:fs';
import path from 'node:path';
import { CLI_ACTOR } from '../lib/server/actor.ts';
import { parseCardYaml } from '../lib/server/cards/card-schema.ts';
import {
	cardToYaml,
	CARD_SLUG,
	exportCard,
	importCard
} from '../lib/server/cards/cards.service.ts';
import { StudyStateError } from '../lib/server/studies/studies.service.ts';
import { formatProblems } from '../lib/server/validation/problems.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase, writeOut } from './shared.ts';

const USAGE = `usage: bedside card <command>

  validate <card.yaml>                      check a BenchmarkCard; every problem with its path
  import <card.yaml> [--slug SLUG]          store it (the slug defaults to the file name)
  export <slug> [--out FILE]                the card as YAML, with the evidence studies wrote back`;

function readCard(file: string) {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
	}
	const result = parseCardYaml(text);
	for (const w of result.warnings)
		console.error(`${file}: warning: ${w.path}: ${w.message}${w.line ? ` (line ${w.line})` : ''}`);
	return result;
}

export async function runCard(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside card ${command ?? ''}`.trim(), USAGE, async () => {
		switch (command) {
			case 'validate': {
				const { positionals } = parseOptions(rest, {});
				if (positionals.length !== 1) throw new UsageError('give one card file');
				const result = readCard(positionals[0]!);
				if (!result.ok) {
					console.error(
						`${positionals[0]}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}`
					);
					return 1;
				}
				const n = Object.keys(result.card.task).length + Object.keys(result.card.outcome).length;
				console.log(`${positionals[0]}: valid — "${result.card.benchmark_name}", ${n} assumptions`);
				return 0;
			}
			case 'import': {
				const { positionals, values } = parseOptions(rest, { slug: { type: 'string' } });
				if (positionals.length !== 1) throw new UsageError('give one card file');
				const file = positionals[0]!;
				const slug = values.slug ?? path.basename(file).replace(/\.ya?ml$/, '');
				if (!CARD_SLUG.test(slug))
					throw new UsageError(`"${slug}" is not a valid card slug; pass --slug`);
				const result = readCard(file);
				if (!result.ok) {
					console.error(
						`${file}: ${result.problems.length} problem(s):\n${formatProblems(result.problems)}`
					);
					return 1;
				}
				return withDatabase(async ({ db }) => {
					const { created } = await importCard(db, slug, result.card, CLI_ACTOR);
					console.log(`card ${slug}: ${created ? 'imported' : 'updated'}`);
					return 0;
				});
			}
			case 'export': {
				const { positionals, values } = parseOptions(rest, { out: { type: 'string' } });
				if (positionals.length !== 1) throw new UsageError('give one card slug');
				return withDatabase(async ({ db }) => {
					const card = await exportCard(db, positionals[0]!);
					if (!card) throw new StudyStateError(`no card "${positionals[0]}"`, 'not_found');
					writeOut(cardToYaml(card), values.out);
					return 0;
				});
			}
			default:
				throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		}
	});
}
