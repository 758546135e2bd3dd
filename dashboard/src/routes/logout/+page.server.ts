import { redirect } from '@sveltejs/kit';
import { endSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load = (async () => redirect(303, '/')) satisfies PageServerLoad;

export const actions = {
	default: async (event) => {
		endSession(event);
		redirect(303, '/login');
	}
} satisfies Actions;
