import { error, json } from '@sveltejs/kit';
import { get } from '$lib/server/api';
import type { CompactHistory } from '$lib/types';
import type { RequestHandler } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Runs in the chart's first page (the newest) and in each older page loaded on demand. */
const FIRST_PAGE = 2000;
const OLDER_PAGE = 5000;

/** The chart's compact history, page by page, for the browser (the API is called as the signed-in user). */
export const GET = (async (event) => {
	if (!UUID.test(event.params.id)) error(404, 'There is no such test.');
	const cursor = event.url.searchParams.get('cursor');
	const q = cursor ? `limit=${OLDER_PAGE}&cursor=${encodeURIComponent(cursor)}` : `limit=${FIRST_PAGE}`;
	return json(await get<CompactHistory>(event, `/tests/${event.params.id}/history/compact?${q}`));
}) satisfies RequestHandler;
