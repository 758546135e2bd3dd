import { redirect } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** The project selector without JavaScript: a GET form lands here. */
export const GET: RequestHandler = ({ url }) => {
	const to = url.searchParams.get('to') ?? '';
	redirect(303, /^[a-z0-9][a-z0-9-]*$/.test(to) ? `/projects/${to}` : '/');
};
