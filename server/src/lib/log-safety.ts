const SENSITIVE_PARAM = /token|key|secret|password|passwd|auth|session|jwt/i;
// GitLab's tokens (glpat-, glptt-, gldt-…) too: a GitLab token pasted into a URL must not reach the log.
const TOKEN_LIKE = /flk_[ap]_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\bgl[a-z]{1,6}-[A-Za-z0-9_-]{16,}/g;

/** A URL fit for a log line: values of credential-like query parameters and token-shaped text masked. */
export function safeUrl(url: string): string {
	const masked = url.replace(TOKEN_LIKE, '[redacted]');
	const q = masked.indexOf('?');
	if (q === -1) return masked;
	const path = masked.slice(0, q);
	const params = new URLSearchParams(masked.slice(q + 1));
	for (const key of [...params.keys()]) if (SENSITIVE_PARAM.test(key)) params.set(key, '[redacted]');
	return `${path}?${params.toString()}`;
}

/** pino serializer for requests: no headers (they carry the bearer token), a masked URL. */
export function requestSerializer(req: { method?: string; url?: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) {
	return { method: req.method, url: safeUrl(req.url ?? ''), host: req.hostname, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}
