import { CLI_ACTOR } from '../lib/server/actor.ts';
import { createUser, resetPassword } from '../lib/server/auth/auth.service.ts';
import { grantMembership, STUDY_ROLES as ROLES } from '../lib/server/auth/accounts.service.ts';
import type { StudyRole } from '../lib/server/auth/users.repository.ts';
import { parseOptions, runSubcommand, UsageError, withDatabase } from './shared.ts';

const USAGE = `usage: bedside user <command>

  create --email EMAIL [--admin] [--name NAME]    a new account with a one-time password,
                                                  printed once (changed at first sign-in)
  grant --email EMAIL --study SLUG --role ROLE    give an account a role in a study
                                                  (${ROLES.join(', ')})
  reset-password --email EMAIL                    a new one-time password, printed once (valid
                                                  for 7 days); ends the account's sessions`;

export async function runUser(args: string[]): Promise<number> {
	const [command, ...rest] = args;
	return runSubcommand(`bedside user ${command ?? ''}`.trim(), USAGE, async () => {
		switch (command) {
			case 'create': {
				const { values, positionals } = parseOptions(rest, {
					email: { type: 'string' },
					admin: { type: 'boolean', default: false },
					name: { type: 'string' }
				});
				if (positionals.length > 0 || !values.email) throw new UsageError('give --email');
				return withDatabase(async ({ db }) => {
					const { user, oneTimePassword } = await createUser(
						db,
						{ email: values.email!, isAdmin: values.admin, displayName: values.name },
						CLI_ACTOR
					);
					console.log(`created ${user.isAdmin ? 'admin ' : ''}account ${user.email}`);
					console.log(
						`one-time password: ${oneTimePassword} (shown once; valid for 7 days; to be changed at first sign-in)`
					);
					return 0;
				});
			}
			case 'grant': {
				const { values, positionals } = parseOptions(rest, {
					email: { type: 'string' },
					study: { type: 'string' },
					role: { type: 'string' }
				});
				if (positionals.length > 0 || !values.email || !values.study || !values.role) {
					throw new UsageError('give --email, --study and --role');
				}
				if (!ROLES.includes(values.role as StudyRole))
					throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
				return withDatabase(async ({ db }) => {
					const granted = await grantMembership(
						db,
						{ email: values.email!, slug: values.study!, role: values.role! },
						CLI_ACTOR
					);
					console.log(`${granted.email} is now ${granted.role} of ${values.study}`);
					return 0;
				});
			}
			case 'reset-password': {
				const { values, positionals } = parseOptions(rest, { email: { type: 'string' } });
				if (positionals.length > 0 || !values.email) throw new UsageError('give --email');
				return withDatabase(async ({ db }) => {
					const password = await resetPassword(db, values.email!, CLI_ACTOR);
					console.log(
						`one-time password for ${values.email}: ${password} (shown once; valid for 7 days; to be changed at sign-in)`
					);
					return 0;
				});
			}
			default:
				throw new UsageError(command ? `unknown command "${command}"` : 'which command?');
		}
	});
}
