import { OPENAPI } from '../../src/lib/server/api/openapi.ts';

// Checks a JSON value against a schema of the API's OpenAPI description: the subset it uses
// (type, possibly a list with null; required; properties; items; enum; $ref). Returns what does
// not match, with the path, so a test failure says where the answer and the description differ.

type Schema = {
	$ref?: string;
	type?: string | readonly string[];
	required?: readonly string[];
	properties?: Record<string, Schema>;
	items?: Schema;
	enum?: readonly unknown[];
};

const typeOf = (v: unknown) =>
	v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

export function schemaProblems(value: unknown, schema: Schema, path = '$'): string[] {
	if (schema.$ref) {
		const name = schema.$ref.replace('#/components/schemas/', '');
		return schemaProblems(
			value,
			(OPENAPI.components.schemas as Record<string, Schema>)[name]!,
			path
		);
	}
	const problems: string[] = [];
	if (schema.type) {
		const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
		const actual = typeOf(value);
		const ok = types.includes(actual) || (actual === 'integer' && types.includes('number'));
		if (!ok) return [`${path}: is ${actual}, the description says ${types.join(' or ')}`];
	}
	if (schema.enum && !schema.enum.includes(value))
		problems.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
	if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
		const object = value as Record<string, unknown>;
		for (const key of schema.required ?? [])
			if (!(key in object)) problems.push(`${path}.${key}: missing`);
		for (const [key, sub] of Object.entries(schema.properties ?? {}))
			if (key in object) problems.push(...schemaProblems(object[key], sub, `${path}.${key}`));
	}
	if (Array.isArray(value) && schema.items)
		value.forEach((item, i) =>
			problems.push(...schemaProblems(item, schema.items!, `${path}[${i}]`))
		);
	return problems;
}

/** The schema the description gives for a path's answer with this status (JSON answers only). */
export function responseSchema(path: string, method: string, status: number): Schema | undefined {
	const operation = (
		OPENAPI.paths as Record<
			string,
			Record<
				string,
				{ responses: Record<string, { content?: Record<string, { schema: Schema }> }> }
			>
		>
	)[path]?.[method.toLowerCase()];
	return operation?.responses[String(status)]?.content?.['application/json']?.schema;
}

/** Whether the description lists this status for the operation. */
export function documentedStatus(path: string, method: string, status: number): boolean {
	const operation = (
		OPENAPI.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>
	)[path]?.[method.toLowerCase()];
	return operation !== undefined && String(status) in operation.responses;
}
