/** Who is acting, for the audit log: a signed-in user, the CLI, the system itself, or a participant. */
export interface Actor {
	kind: 'user' | 'cli' | 'system' | 'participant' | 'token';
	id?: string | null;
}

export const CLI_ACTOR: Actor = { kind: 'cli', id: process.env.USER ?? null };
export const SYSTEM_ACTOR: Actor = { kind: 'system', id: null };
