import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium, driven by playwright-core. These flags keep it from reaching for the network
// (this machine has none) and from touching a shared profile: launch() uses a fresh temporary one.
const CHROMIUM = process.env.BEDSIDE_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run'
];

export async function launchBrowser(): Promise<Browser> {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(
			`Chromium not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
				'or point BEDSIDE_CHROMIUM at a Chromium binary.'
		);
	}
	return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}
