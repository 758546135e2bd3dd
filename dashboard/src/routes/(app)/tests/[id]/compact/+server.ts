import { error, json } from '@sveltejs/kit';
import { get } from '$lib/server/api';
import type { CompactHistory } from '$lib/types';
import type { RequestHandler } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Older pages of the chart's compact history, for the browser (the API is called as the signed-in user). */
export const GET = (async (event) => {
	if (!UUID.test(event.params.id)) error(404, 'There is no such test.');
	const cursor = event.url.searchParams.get('cursor') ?? '';
	if (!cursor) error(400, 'Say where to continue: cursor is missing.');
	return json(await get<CompactHistory>(event, `/tests/${event.params.id}/history/compact?limit=5000&cursor=${encodeURIComponent(cursor)}`));
}) satisfies RequestHandler;
