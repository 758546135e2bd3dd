import type { Cookies } from '@sveltejs/kit';
import { secureCookies } from './config';

export const SESSION_COOKIE = 'flackyness_session';

export interface Claims {
	sub: string;
	iat: number;
	exp: number;
}

/**
 * Reads a session token's times without checking its signature: the API checks that on every call.
 * The dashboard only needs to know when to renew it and when to stop sending it.
 */
export function claimsOf(token: string): Claims | null {
	const parts = token.split('.');
	if (parts.length !== 3) return null;
	try {
		const c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<Claims>;
		if (typeof c.exp !== 'number' || typeof c.iat !== 'number' || typeof c.sub !== 'string') return null;
		return c as Claims;
	} catch {
		return null;
	}
}

/** Renew once less than half of the session's lifetime is left. */
export function dueForRenewal(c: Claims, nowSeconds = Date.now() / 1000): boolean {
	return c.exp - nowSeconds < (c.exp - c.iat) / 2;
}

interface CookieEvent {
	cookies: Cookies;
	url: URL;
	locals: App.Locals;
}

export function startSession(event: CookieEvent, token: string): void {
	const c = claimsOf(token);
	if (!c) throw new Error('the API answered a session token without expiry');
	event.cookies.set(SESSION_COOKIE, token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure: secureCookies(event.url),
		maxAge: Math.max(1, Math.floor(c.exp - Date.now() / 1000))
	});
	event.locals.session = { token, exp: c.exp };
}

export function endSession(event: CookieEvent): void {
	event.cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies(event.url) });
	event.locals.session = null;
	event.locals.user = null;
}

/** Where to go after signing in: only paths of this site. */
export function safeNext(next: string | null | undefined): string {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
	return next;
}

export function loginUrl(url: URL): string {
	const here = url.pathname + url.search;
	return here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`;
}
