import { preregistrationsOf, revealedSeed } from '../lib/server/prereg/prereg.repository.ts';
import { verifyAllocations } from '../lib/server/randomization/allocation.service.ts';
import { getProtocol } from '../lib/server/studies/studies.service.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside randomization verify <slug> [--seed SEED]

  Re-derives the allocation sequence from the seed and checks every stored allocation against
  it, and the seed against the preregistered commitment. Without --seed, the seed the study
  revealed when it closed is used.`;

export async function runRandomization(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside randomization ${command ?? ''}`.trim(), USAGE, async () => {
		if (command !== 'verify')
			throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		const { positionals, values } = parseOptions(rest, { seed: { type: 'string' } });
		if (positionals.length !== 1) throw new UsageError('give one study slug');
		return withDatabase(async ({ db }) => {
			const { study } = await getProtocol(db, positionals[0]!);
			const chain = await preregistrationsOf(db, study.id);
			const first = chain[0];
			if (!first) throw new UsageError(`study "${study.slug}" is not preregistered`);
			const seed = values.seed ?? (await revealedSeed(db, study.id));
			if (!seed)
				throw new UsageError(
					'the study has not revealed its seed yet (it does when it closes); pass --seed'
				);
			// Participants are allocated under the protocol they enrolled in; the design and arms are
			// those of the version registered first (amendments keep the seed and, by rule here, the design).
			const { protocol } = await getProtocol(db, study.slug, first.protocolVersion);
			const report = await verifyAllocations(db, study.id, protocol, seed, first.seedSha256);
			console.log(
				`${study.slug}: seed ${report.seedMatchesCommitment ? 'matches' : 'does NOT match'} the preregistered commitment`
			);
			console.log(`${study.slug}: ${report.checked} slots checked (${report.taken} taken)`);
			for (const p of report.problems) console.log(`  ${p}`);
			console.log(
				report.ok
					? 'OK: every allocation follows from the seed.'
					: `FAILED: ${report.problems.length} problem(s).`
			);
			return report.ok ? 0 : 1;
		});
	});
}
