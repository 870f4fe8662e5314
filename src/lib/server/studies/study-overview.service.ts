import { designPowerOf } from '../prereg/design-power.ts';
import { describeChanges, diffJson } from '../protocols/diff.ts';
import { listProtocolVersions } from '../protocols/protocols.repository.ts';
import { validateProtocol } from '../protocols/study-file.ts';
import { preregistrationsOf } from '../prereg/prereg.repository.ts';
import type { Queryable } from '../db/types.ts';
import { assistantHealth, deviationsOf } from '../assistant/assistant.repository.ts';
import { monitoring } from '../monitoring/monitoring.service.ts';
import type { StudySummary } from './studies.repository.ts';

/** What a researcher sees of a study: its newest protocol, every version with what changed, and its registrations. */
export async function studyOverview(db: Queryable, study: StudySummary) {
	const versions = await listProtocolVersions(db, study.id);
	const latest = versions[versions.length - 1];
	const checked = latest ? validateProtocol(latest.protocol) : undefined;
	const registrations = await preregistrationsOf(db, study.id);
	const deviations = await deviationsOf(db, study.id);
	return {
		monitoring:
			registrations.length > 0 && checked?.ok
				? await monitoring(
						db,
						study.id,
						checked.protocol.arms.map((a) => a.id)
					)
				: null,
		assistant: await assistantHealth(db, study.id),
		/** The newest 50; the export has them all. */
		deviations: deviations
			.slice(-50)
			.reverse()
			.map((d) => ({
				id: d.id,
				kind: d.kind,
				armKey: d.armKey,
				at: d.createdAt.toISOString(),
				error: typeof d.details.error === 'string' ? d.details.error : null,
				details: d.details
			})),
		deviationCount: deviations.length,
		protocol: checked?.ok ? checked.protocol : null,
		/** The power of the design as it stands (by the design effect; the registration adds a simulation). */
		designPower: checked?.ok ? designPowerOf(checked.protocol, 0) : null,
		versions: versions
			.map((v, i) => ({
				version: v.version,
				sha256: v.sha256,
				createdAt: v.createdAt.toISOString(),
				locked: v.lockedAt !== null,
				reason: v.reason,
				changes: i === 0 ? [] : describeChanges(diffJson(versions[i - 1]!.protocol, v.protocol))
			}))
			.reverse(),
		registrations: registrations.map((r) => ({
			kind: r.kind,
			protocolVersion: r.protocolVersion,
			registeredAt: r.createdAt.toISOString(),
			sha256: r.sha256,
			protocolSha256: r.protocolSha256,
			seedSha256: r.seedSha256,
			reason: r.reason
		}))
	};
}
