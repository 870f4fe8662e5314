import { z } from 'zod';
import { studyProtocol } from './study-schema.ts';

/**
 * The study file format as JSON Schema (draft 2020-12), generated from the zod schema so the two
 * never drift (a test compares it with the committed studies/study.schema.json). Editors that
 * understand JSON Schema (VS Code's YAML extension, for one) can use it to autocomplete and check
 * study files; the cross-field rules (ids that must exist, block sizes) are checked by Bedside.
 */
export function studyJsonSchema(): string {
	const schema = z.toJSONSchema(studyProtocol, {
		io: 'input',
		unrepresentable: 'any',
		target: 'draft-2020-12'
	});
	return `${JSON.stringify(
		{
			...schema,
			$id: 'urn:bedside:study:1',
			title: 'Bedside study protocol (bedside-study/1)',
			description:
				'studies/<slug>/study.yaml. Cross-field rules are checked by `bedside study validate`.'
		},
		null,
		2
	)}\n`;
}
