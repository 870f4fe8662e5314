import net from 'node:net';

// A TCP proxy in front of PostgreSQL that a test can cut: every open connection is destroyed and
// new ones are refused until it is restored. To the app this is what a database restart or a
// failover looks like on the wire.

export interface TcpProxy {
	port: number;
	/** Destroys every connection and refuses new ones. */
	cut(): void;
	restore(): void;
	connections(): number;
	close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
	const open = new Set<net.Socket>();
	let down = false;
	const server = net.createServer((client) => {
		if (down) {
			client.destroy();
			return;
		}
		const upstream = net.connect(targetPort, targetHost);
		open.add(client);
		open.add(upstream);
		const end = () => {
			client.destroy();
			upstream.destroy();
			open.delete(client);
			open.delete(upstream);
		};
		client.on('error', end).on('close', end);
		upstream.on('error', end).on('close', end);
		client.pipe(upstream);
		upstream.pipe(client);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		cut() {
			down = true;
			for (const s of open) s.destroy();
			open.clear();
		},
		restore() {
			down = false;
		},
		connections: () => open.size / 2,
		close: () =>
			new Promise((resolve) => {
				for (const s of open) s.destroy();
				server.close(() => resolve());
			})
	};
}
