// The server's problems with the protocol, keyed by path ("arms[0].assistant.model"), as each
// editor section shows them beside its fields.

export type Problems = { path: string; message: string }[];

export const problemAt = (problems: Problems, path: string) =>
	problems.find((x) => x.path === path)?.message;

/** aria-invalid for a field: "true" when the server found a problem at its path. */
export const invalidAt = (problems: Problems, path: string) =>
	problemAt(problems, path) ? 'true' : undefined;
