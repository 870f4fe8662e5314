import { loadConfig } from '../lib/server/config.ts';
import { codeConversations, coderAgreement } from '../lib/server/coding/coding.service.ts';
import { getProtocol } from '../lib/server/studies/studies.service.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside code conversations <slug> [--coder rule|model]
       bedside code agreement <slug>

  conversations  code what the assistant recommended in every conversation not yet coded by the
                 coder: rule (fuzzy matching; default) or model (the grader model the study file
                 names under coding.grader, with structured output)
  agreement      Cohen's kappa on the recommended disposition for each pair of coders (JSON)`;

export async function runCode(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside code ${command ?? ''}`.trim(), USAGE, async () => {
		const { positionals, values } = parseOptions(rest, {
			coder: { type: 'string', default: 'rule' }
		});
		if (positionals.length !== 1) throw new UsageError('give one study slug');
		const slug = positionals[0]!;
		if (command === 'conversations') {
			if (values.coder !== 'rule' && values.coder !== 'model')
				throw new UsageError('--coder must be rule or model');
			const llm = loadConfig().llm;
			return withDatabase(async ({ db }) => {
				const report = await codeConversations(db, slug, values.coder as 'rule' | 'model', llm);
				console.log(
					`${slug}: ${report.coded} conversation(s) coded by ${report.coder}, ${report.failed.length} failed`
				);
				for (const f of report.failed) console.log(`  episode ${f.episodeId}: ${f.error}`);
				return report.failed.length > 0 ? 1 : 0;
			});
		}
		if (command === 'agreement')
			return withDatabase(async ({ db }) => {
				const { study } = await getProtocol(db, slug);
				console.log(JSON.stringify(await coderAgreement(db, study.id), null, 2));
				return 0;
			});
		throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
	});
}
