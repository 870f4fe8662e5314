import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { problemsFromZod, type Problem } from '../validation/problems.ts';
import { parseYaml, type ParsedYaml } from '../validation/yaml.ts';
import { studyProtocol, type StudyProtocol } from './study-schema.ts';

export type ProtocolResult =
	{ ok: true; protocol: StudyProtocol } | { ok: false; problems: Problem[] };

/** Validates a protocol value (parsed YAML or JSON, or a form's result) against the schema. */
export function validateProtocol(
	value: unknown,
	yaml?: ParsedYaml,
	scenariosYaml?: FileYaml
): ProtocolResult {
	const parsed = studyProtocol.safeParse(value);
	if (parsed.success) return { ok: true, protocol: parsed.data };
	const problems = problemsFromZod(parsed.error.issues).map((problem) =>
		locate(problem, problem.keys ?? [], yaml, scenariosYaml)
	);
	return { ok: false, problems };
}

interface FileYaml {
	file: string;
	yaml: ParsedYaml;
}

function locate(
	problem: Problem,
	issuePath: readonly PropertyKey[],
	yaml?: ParsedYaml,
	scenarios?: FileYaml
): Problem {
	if (scenarios && issuePath[0] === 'scenarios' && issuePath.length > 1) {
		return { ...problem, file: scenarios.file, line: scenarios.yaml.lineOf(issuePath.slice(1)) };
	}
	const line = yaml?.lineOf(issuePath);
	return line ? { ...problem, line } : problem;
}

/**
 * Parses and validates study YAML. `scenarios_file: scenarios.yaml` may name a file beside it
 * (read through `readSibling`) holding the list of scenarios; the protocol then holds them inline.
 */
export function parseStudyYaml(
	text: string,
	readSibling?: (name: string) => string
): ProtocolResult {
	const main = parseYaml(text);
	if (!main.ok) return main;
	const value = main.yaml.value;
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return {
			ok: false,
			problems: [{ path: '', message: 'a study file must be a YAML mapping of fields' }]
		};
	}
	const record = { ...(value as Record<string, unknown>) };
	let scenariosYaml: FileYaml | undefined;
	if ('scenarios_file' in record) {
		const name = record.scenarios_file;
		const line = main.yaml.lineOf(['scenarios_file']);
		if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+\.ya?ml$/.test(name)) {
			return {
				ok: false,
				problems: [
					{
						path: 'scenarios_file',
						message: 'must be a .yaml file name beside the study file',
						line
					}
				]
			};
		}
		if ('scenarios' in record) {
			return {
				ok: false,
				problems: [
					{
						path: 'scenarios_file',
						message: 'give scenarios inline or in scenarios_file, not both',
						line
					}
				]
			};
		}
		let scenariosText: string;
		try {
			if (!readSibling) throw new Error('no folder to read it from');
			scenariosText = readSibling(name);
		} catch (error) {
			return {
				ok: false,
				problems: [
					{
						path: 'scenarios_file',
						message: `cannot read ${name}: ${(error as Error).message}`,
						line
					}
				]
			};
		}
		const scenarios = parseYaml(scenariosText);
		if (!scenarios.ok)
			return { ok: false, problems: scenarios.problems.map((p) => ({ ...p, file: name })) };
		scenariosYaml = { file: name, yaml: scenarios.yaml };
		delete record.scenarios_file;
		record.scenarios = scenarios.yaml.value;
	}
	return validateProtocol(record, main.yaml, scenariosYaml);
}

/** Reads and validates `studies/<slug>/study.yaml` (or any study file path). */
export function loadStudyFile(file: string): ProtocolResult {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		return {
			ok: false,
			problems: [{ path: '', message: `cannot read ${file}: ${(error as Error).message}` }]
		};
	}
	const dir = path.dirname(file);
	return parseStudyYaml(text, (name) => fs.readFileSync(path.join(dir, name), 'utf8'));
}

/** The protocol as study YAML (scenarios inline); parsing it back gives an equal protocol. */
export function protocolToYaml(protocol: StudyProtocol): string {
	return stringify(protocol, { lineWidth: 100, blockQuote: 'literal' });
}
