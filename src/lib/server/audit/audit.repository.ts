import type { Actor } from '../actor.ts';
import type { Queryable } from '../db/types.ts';

export interface AuditEvent {
	actorKind: Actor['kind'];
	actorId?: string | null;
	studyId?: string | null;
	protocolVersionId?: string | null;
	action: string;
	target?: string | null;
	details?: Record<string, unknown>;
}

/** Appends one event to the audit log (the table refuses updates and deletes). */
export async function recordAuditEvent(db: Queryable, event: AuditEvent): Promise<void> {
	await db
		.insertInto('audit_events')
		.values({
			actor_kind: event.actorKind,
			actor_id: event.actorId ?? null,
			study_id: event.studyId ?? null,
			protocol_version_id: event.protocolVersionId ?? null,
			action: event.action,
			target: event.target ?? null,
			details: JSON.stringify(event.details ?? {})
		})
		.execute();
}
