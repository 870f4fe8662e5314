import * as client from 'openid-client';
import type { OidcConfig } from '../config.ts';

// The OpenID Connect side of institutional sign-in, by openid-client: discovery (once per
// process), the authorization code flow with PKCE, state and nonce, and the ID token's claims.
// An issuer over plain http is accepted only on this machine (a test or local provider).

export interface PendingSignIn {
	state: string;
	nonce: string;
	verifier: string;
	next: string;
}

export interface IdentityClaims {
	issuer: string;
	subject: string;
	email: string | null;
	emailVerified: boolean;
	name: string | null;
}

const configurations = new Map<string, Promise<client.Configuration>>();

const loopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

function configurationOf(oidc: OidcConfig): Promise<client.Configuration> {
	const key = `${oidc.issuer}\u0000${oidc.clientId}`;
	let configuration = configurations.get(key);
	if (!configuration) {
		const issuer = new URL(oidc.issuer);
		configuration = client.discovery(issuer, oidc.clientId, oidc.clientSecret, undefined, {
			timeout: 10,
			...(issuer.protocol === 'http:' &&
				loopback(issuer) && { execute: [client.allowInsecureRequests] })
		});
		// A failed discovery (the provider down) is tried again at the next sign-in.
		configuration.catch(() => configurations.delete(key));
		configurations.set(key, configuration);
	}
	return configuration;
}

/** Where to send the browser, and what to keep (in a short-lived cookie) for the way back. */
export async function beginSignIn(
	oidc: OidcConfig,
	redirectUri: string,
	next: string
): Promise<{ url: URL; pending: PendingSignIn }> {
	const configuration = await configurationOf(oidc);
	const verifier = client.randomPKCECodeVerifier();
	const pending = { state: client.randomState(), nonce: client.randomNonce(), verifier, next };
	const url = client.buildAuthorizationUrl(configuration, {
		redirect_uri: redirectUri,
		scope: 'openid email profile',
		code_challenge: await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
		state: pending.state,
		nonce: pending.nonce
	});
	return { url, pending };
}

/** Exchanges the code the provider sent back; checks state, nonce and the ID token. */
export async function finishSignIn(
	oidc: OidcConfig,
	callbackUrl: URL,
	pending: PendingSignIn
): Promise<IdentityClaims> {
	const configuration = await configurationOf(oidc);
	const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
		pkceCodeVerifier: pending.verifier,
		expectedState: pending.state,
		expectedNonce: pending.nonce,
		idTokenExpected: true
	});
	const claims = tokens.claims()!;
	// Many providers put the email in the ID token; the others answer it at the userinfo endpoint.
	const info =
		typeof claims.email === 'string'
			? claims
			: await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
	return {
		issuer: claims.iss,
		subject: claims.sub,
		email: typeof info.email === 'string' ? info.email : null,
		emailVerified: info.email_verified === true,
		name: typeof info.name === 'string' ? info.name : null
	};
}
