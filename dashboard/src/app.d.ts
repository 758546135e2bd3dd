import type { SessionUser } from '$lib/types';

declare global {
	namespace App {
		interface Error {
			message: string;
			/** Request id to quote when reporting a 500. */
			id?: string;
		}
		interface Locals {
			/** The session token (JWT) from the HTTP-only cookie; it never reaches the browser's scripts. */
			session: { token: string; exp: number } | null;
			user: SessionUser | null;
		}
		// interface PageData {}
		// interface PageState {}
		// interface Platform {}
	}
}

export {};
