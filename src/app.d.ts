import type { App as BedsideApp } from '$lib/server/app';
import type { User } from '$lib/server/auth/users.repository';

declare global {
	namespace App {
		interface Error {
			message: string;
		}
		interface Locals {
			app: BedsideApp;
			/** The signed-in researcher or analyst, or null. */
			user: User | null;
			/** Their session token (to sign out), when signed in. */
			sessionToken: string | null;
			/** Set when the request failed because the database could not be reached (answered 503). */
			databaseUnavailable?: boolean;
		}
	}
}

export {};
