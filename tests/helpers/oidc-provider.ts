import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

// A real OpenID Connect provider (the `oidc-provider` package) on a free port, as an institution
// runs one: discovery, the authorization code flow with PKCE, signed ID tokens. Its development
// login page takes any login (the account id) and password; the accounts' claims are set here.

export interface TestAccount {
	email: string;
	email_verified: boolean;
	name?: string;
}

export interface OidcTestProvider {
	issuer: string;
	clientId: string;
	clientSecret: string;
	accounts: Map<string, TestAccount>;
	close(): Promise<void>;
}

export async function startOidcProvider(redirectUri: string): Promise<OidcTestProvider> {
	const accounts = new Map<string, TestAccount>();
	const clientId = 'bedside-test';
	const clientSecret = 'bedside-test-secret-0123456789abcdef';
	const { createServer } = await import('node:http');
	const server: Server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const provider = new Provider(issuer, {
		clients: [
			{
				client_id: clientId,
				client_secret: clientSecret,
				redirect_uris: [redirectUri],
				grant_types: ['authorization_code'],
				response_types: ['code']
			}
		],
		claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
		features: { devInteractions: { enabled: true } },
		async findAccount(_ctx, id) {
			const account = accounts.get(id);
			if (!account) return undefined;
			return { accountId: id, claims: async () => ({ sub: id, ...account }) };
		}
	});
	// The development login page accepts any login: an unknown one becomes an account without email.
	server.on('request', provider.callback());
	return {
		issuer,
		clientId,
		clientSecret,
		accounts,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}
