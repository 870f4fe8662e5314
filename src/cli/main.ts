import fs from 'node:fs';

// Each command is loaded only when it runs: `bedside --help` and a quick command do not pay for
// the analysis library, the server code and the database drivers that other commands need.
type Run = (args: string[]) => Promise<number>;
const commands: Record<string, { load: () => Promise<Run>; help: string }> = {
	start: {
		load: async () => (await import('./start.ts')).runStart,
		help: 'build if needed, migrate, seed the demo study, serve'
	},
	migrate: {
		load: async () => (await import('./migrate.ts')).runMigrate,
		help: 'bring the database schema to the newest migration'
	},
	study: {
		load: async () => (await import('./study.ts')).runStudy,
		help: 'validate, import, export, preregister, amend, launch, pause, close a study'
	},
	card: {
		load: async () => (await import('./card.ts')).runCard,
		help: 'validate, import, export BenchmarkCards'
	},
	user: {
		load: async () => (await import('./user.ts')).runUser,
		help: 'create accounts and grant roles in studies'
	},
	analyze: {
		load: async () => (await import('./analysis-commands.ts')).runAnalyze,
		help: 'analyse a study (export or database): JSON, Markdown or HTML report with charts'
	},
	export: {
		load: async () => (await import('./export.ts')).runExport,
		help: 'write a study in the export format (folder or zip), with a codebook'
	},
	outcomes: {
		load: async () => (await import('./outcomes.ts')).runOutcomes,
		help: 'import later outcomes from a CSV, checked in full and applied all-or-nothing'
	},
	power: {
		load: async () => (await import('./analysis-commands.ts')).runPower,
		help: 'sample size, power or detectable difference for two proportions'
	},
	decompose: {
		load: async () => (await import('./analysis-commands.ts')).runDecompose,
		help: 'the staged decomposition of the evaluation–deployment gap'
	},
	benchmark: {
		load: async () => (await import('./benchmark.ts')).runBenchmarkCommand,
		help: "run the LLM-alone condition: an arm's pinned model on every scenario"
	},
	code: {
		load: async () => (await import('./code.ts')).runCode,
		help: 'code what the assistant recommended (rule or model coder); coder agreement'
	},
	bots: {
		load: async () => (await import('./bots.ts')).runBotsCommand,
		help: 'simulated participants through the real HTTP flow (tests, load, faults)'
	},
	randomization: {
		load: async () => (await import('./randomization.ts')).runRandomization,
		help: "verify a study's allocations against its seed"
	},
	'db-types': {
		load: async () => (await import('./db-types.ts')).runDbTypes,
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
		return await (
			await command.load()
		)(args);
	} catch (error) {
		if (error instanceof Error && error.name === 'ConfigError') {
			console.error(error.message);
			return 1;
		}
		console.error(`bedside ${name}: ${error instanceof Error ? error.message : String(error)}`);
		return 1;
	}
}
