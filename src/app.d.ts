import type { App as BedsideApp } from '$lib/server/app';

declare global {
	namespace App {
		interface Error {
			message: string;
		}
		interface Locals {
			app: BedsideApp;
		}
	}
}

export {};
