import { randomUUID } from 'node:crypto';
import type { Handle, HandleServerError } from '@sveltejs/kit';
import { call } from '$lib/server/api';
import { SESSION_COOKIE, claimsOf, dueForRenewal, endSession, startSession } from '$lib/server/session';

/**
 * The session lives in an HTTP-only cookie; each request takes its token for the API calls made on
 * the person's behalf, and renews it once half its lifetime has passed, so that a dashboard in use
 * stays signed in while an abandoned one does not.
 */
export const handle: Handle = async ({ event, resolve }) => {
	event.locals.session = null;
	event.locals.user = null;
	const token = event.cookies.get(SESSION_COOKIE);
	if (token) {
		const claims = claimsOf(token);
		if (!claims || claims.exp * 1000 <= Date.now()) {
			endSession(event);
		} else {
			event.locals.session = { token, exp: claims.exp };
			if (dueForRenewal(claims) && !event.url.pathname.startsWith('/_app/')) {
				const renewed = await call<{ token: string }>(event, 'POST', '/auth/refresh').catch(() => null);
				if (renewed?.ok) startSession(event, renewed.data.token);
			}
		}
	}
	const response = await resolve(event);
	// Pages show data that is the person's business: no shared caches, no back-button after sign-out.
	if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'private, no-store');
	// The API's "no-referrer" would make browsers send "Origin: null" with form posts, which
	// SvelteKit's CSRF check rightly refuses; same-origin still tells other sites nothing.
	response.headers.set('referrer-policy', 'same-origin');
	return response;
};

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const id = randomUUID();
	if (status >= 500) console.error(`flackyness dashboard: ${event.request.method} ${event.url.pathname} failed (${id}):`, error);
	return { message: status >= 500 ? 'Something went wrong on our side.' : message, id };
};
