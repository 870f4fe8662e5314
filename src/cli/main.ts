import fs from 'node:fs';
import { ConfigError } from '../lib/server/config.ts';
import { runAnalyze, runDecompose, runPower } from './analysis-commands.ts';
import { runBenchmarkCommand } from './benchmark.ts';
import { runBotsCommand } from './bots.ts';
import { runCard } from './card.ts';
import { runCode } from './code.ts';
import { runDbTypes } from './db-types.ts';
import { runExport } from './export.ts';
import { runMigrate } from './migrate.ts';
import { runOutcomes } from './outcomes.ts';
import { runRandomization } from './randomization.ts';
import { runStart } from './start.ts';
import { runStudy } from './study.ts';
import { runUser } from './user.ts';

const commands: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
	start: { run: runStart, help: 'build if needed, migrate, seed the demo study, serve' },
	migrate: { run: runMigrate, help: 'bring the database schema to the newest migration' },
	study: {
		run: runStudy,
		help: 'validate, import, export, preregister, amend, launch, pause, close a study'
	},
	card: { run: runCard, help: 'validate, import, export BenchmarkCards' },
	user: { run: runUser, help: 'create accounts and grant roles in studies' },
	analyze: {
		run: runAnalyze,
		help: 'analyse a study (export or database): JSON, Markdown or HTML report with charts'
	},
	export: {
		run: runExport,
		help: 'write a study in the export format (folder or zip), with a codebook'
	},
	outcomes: {
		run: runOutcomes,
		help: 'import later outcomes from a CSV, checked in full and applied all-or-nothing'
	},
	power: { run: runPower, help: 'sample size, power or detectable difference for two proportions' },
	decompose: {
		run: runDecompose,
		help: 'the staged decomposition of the evaluation–deployment gap'
	},
	benchmark: {
		run: runBenchmarkCommand,
		help: "run the LLM-alone condition: an arm's pinned model on every scenario"
	},
	code: {
		run: runCode,
		help: 'code what the assistant recommended (rule or model coder); coder agreement'
	},
	bots: {
		run: runBotsCommand,
		help: 'simulated participants through the real HTTP flow (tests, load, faults)'
	},
	randomization: { run: runRandomization, help: "verify a study's allocations against its seed" },
	'db-types': {
		run: runDbTypes,
		help: 'regenerate src/lib/server/db/schema.ts from the migrations (needs PostgreSQL)'
	}
};

function usage(): string {
	const width = Math.max(...Object.keys(commands).map((c) => c.length));
	return [
		'usage: bedside <command> [options]',
		'',
		'commands:',
		...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.help}`)
	].join('\n');
}

/** Runs one CLI command and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
	const [name, ...args] = argv;
	if (!name || name === '--help' || name === '-h' || name === 'help') {
		console.log(usage());
		return name ? 0 : 2;
	}
	const command = commands[name];
	// A .env file in the working directory fills in variables the environment does not set.
	if (fs.existsSync('.env')) process.loadEnvFile('.env');
	if (!command) {
		console.error(`bedside: unknown command "${name}"\n\n${usage()}`);
		return 2;
	}
	try {
		return await command.run(args);
	} catch (error) {
		if (error instanceof ConfigError) {
			console.error(error.message);
			return 1;
		}
		console.error(`bedside ${name}: ${error instanceof Error ? error.message : String(error)}`);
		return 1;
	}
}
