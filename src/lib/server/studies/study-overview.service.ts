import { describeChanges, diffJson } from '../protocols/diff.ts';
import { listProtocolVersions } from '../protocols/protocols.repository.ts';
import { validateProtocol } from '../protocols/study-file.ts';
import { preregistrationsOf } from '../prereg/prereg.repository.ts';
import type { Queryable } from '../db/types.ts';
import type { StudySummary } from './studies.repository.ts';

/** What a researcher sees of a study: its newest protocol, every version with what changed, and its registrations. */
export async function studyOverview(db: Queryable, study: StudySummary) {
	const versions = await listProtocolVersions(db, study.id);
	const latest = versions[versions.length - 1];
	const checked = latest ? validateProtocol(latest.protocol) : undefined;
	const registrations = await preregistrationsOf(db, study.id);
	return {
		protocol: checked?.ok ? checked.protocol : null,
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
