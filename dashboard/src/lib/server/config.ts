import { createHmac } from 'node:crypto';
import { env } from '$env/dynamic/private';

/**
 * Where the API is: API_URL, or this process's own port when the dashboard is mounted in the
 * server (the default `npm start`), reached over loopback when it listens on every interface.
 */
export function apiBase(): string {
	if (env.API_URL) return env.API_URL.replace(/\/+$/, '');
	const host = !env.HOST || ['0.0.0.0', '::', 'localhost'].includes(env.HOST) ? '127.0.0.1' : env.HOST;
	return `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT || '3000'}`;
}

/** The URL people reach this server at, for the commands the dashboard shows. */
export function publicUrl(requestUrl: URL): string {
	return (env.PUBLIC_URL || requestUrl.origin).replace(/\/+$/, '');
}

/** Session cookies are Secure whenever the public URL is https. */
export function secureCookies(requestUrl: URL): boolean {
	return (env.PUBLIC_URL || requestUrl.origin).startsWith('https:');
}

/**
 * The key with which the dashboard vouches for the address of someone signing in (the API limits
 * sign-ins per address): the server in this process publishes it; a dashboard of its own derives it
 * from the JWT_SECRET it shares with the server. Without it, sign-ins share one limit.
 */
export function dashboardKey(): string | null {
	const published = (globalThis as Record<symbol, unknown>)[Symbol.for('flackyness.dashboardKey')];
	if (typeof published === 'string') return published;
	if (env.JWT_SECRET) return createHmac('sha256', env.JWT_SECRET).update('flackyness dashboard client-ip').digest('base64url');
	return null;
}
