import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The canonical JSON text of a value (RFC 8785, JSON Canonicalization Scheme): object keys sorted,
 * no insignificant whitespace, numbers as ECMAScript prints them. Equal protocols give equal text
 * whatever their key order or formatting, so their hashes agree.
 */
export function canonicalJson(value: unknown): string {
	const text = canonicalize(value);
	if (text === undefined) throw new Error('value cannot be represented as JSON');
	return text;
}

/** SHA-256 (hex) of a value's canonical JSON. */
export function sha256OfJson(value: unknown): string {
	return sha256Hex(canonicalJson(value));
}

export function sha256Hex(text: string): string {
	return createHash('sha256').update(text, 'utf8').digest('hex');
}
