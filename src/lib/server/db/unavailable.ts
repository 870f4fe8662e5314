// Whether an error means the database cannot be reached right now (restarting, failed over, the
// network cut), as opposed to a query that is wrong. Such requests are answered 503 with
// Retry-After, and the pool reconnects by itself when the database is back.

const CONNECTION_CODES = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'EPIPE',
	'ETIMEDOUT',
	'EHOSTUNREACH',
	'ENOTFOUND',
	'EAI_AGAIN',
	// PostgreSQL: connection exceptions (class 08) and operator intervention (57P01–57P03).
	'08000',
	'08001',
	'08003',
	'08004',
	'08006',
	'57P01',
	'57P02',
	'57P03'
]);

const CONNECTION_MESSAGES =
	/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
	for (let e = error, depth = 0; e && depth < 5; depth++) {
		const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
		if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
		if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
		e = cause;
	}
	return false;
}
