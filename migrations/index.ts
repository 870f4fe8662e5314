import type { Migration } from 'kysely';
import * as m0001 from './2026_11_22_0001_immutability_guards.ts';
import * as m0002 from './2026_11_22_0002_accounts.ts';
import * as m0003 from './2026_11_22_0003_studies_and_protocols.ts';
import * as m0004 from './2026_11_22_0004_benchmark_cards.ts';
import * as m0005 from './2026_11_22_0005_participants_and_allocation.ts';
import * as m0006 from './2026_11_22_0006_conversations_and_decisions.ts';
import * as m0007 from './2026_11_22_0007_audit_events.ts';
import * as m0008 from './2026_11_22_0008_preregistration_and_status.ts';
import * as m0009 from './2026_11_22_0009_login_attempts.ts';
import * as m0010 from './2026_11_22_0010_participant_flow.ts';
import * as m0011 from './2026_11_22_0011_assistant_runs.ts';
import * as m0012 from './2026_12_01_0012_participant_identity_and_throttles.ts';
import * as m0013 from './2026_12_01_0013_design_power.ts';
import * as m0014 from './2026_12_01_0014_initial_decisions.ts';
import * as m0015 from './2026_12_01_0015_panel_follow_ups_tokens.ts';
import * as m0016 from './2026_12_01_0016_episode_events_index.ts';
import * as m0017 from './2026_12_01_0017_allocate_function.ts';

// Every migration, by name, in order. Listed by hand (not read from the folder at run time) so the
// same list works in the bundled server, the CLI and the tests; a test checks no file is missing.
export const migrations: Record<string, Migration> = {
	'2026_11_22_0001_immutability_guards': m0001,
	'2026_11_22_0002_accounts': m0002,
	'2026_11_22_0003_studies_and_protocols': m0003,
	'2026_11_22_0004_benchmark_cards': m0004,
	'2026_11_22_0005_participants_and_allocation': m0005,
	'2026_11_22_0006_conversations_and_decisions': m0006,
	'2026_11_22_0007_audit_events': m0007,
	'2026_11_22_0008_preregistration_and_status': m0008,
	'2026_11_22_0009_login_attempts': m0009,
	'2026_11_22_0010_participant_flow': m0010,
	'2026_11_22_0011_assistant_runs': m0011,
	'2026_12_01_0012_participant_identity_and_throttles': m0012,
	'2026_12_01_0013_design_power': m0013,
	'2026_12_01_0014_initial_decisions': m0014,
	'2026_12_01_0015_panel_follow_ups_tokens': m0015,
	'2026_12_01_0016_episode_events_index': m0016,
	'2026_12_01_0017_allocate_function': m0017
};
