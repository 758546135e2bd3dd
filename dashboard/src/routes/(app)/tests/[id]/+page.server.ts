import { error, fail } from '@sveltejs/kit';
import { call, get } from '$lib/server/api';
import type { HistoryItem, TestDetail } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

/** Rows per page of the runs table. The chart loads its own data (./compact) once the page is shown. */
const RUNS_PAGE = 20;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const load = (async (event) => {
	const { id } = event.params;
	if (!UUID.test(id)) error(404, 'There is no such test.');
	// The recent-runs table pages with the API's cursor (`?runs=`); its first page is the newest runs.
	const runsCursor = event.url.searchParams.get('runs');
	const [test, history, runsPage] = await Promise.all([
		get<TestDetail>(event, `/tests/${id}`),
		get<{ items: HistoryItem[]; nextCursor: string | null }>(event, `/tests/${id}/history?limit=100`),
		get<{ items: HistoryItem[]; nextCursor: string | null }>(
			event,
			`/tests/${id}/history?limit=${RUNS_PAGE}${runsCursor ? `&cursor=${encodeURIComponent(runsCursor)}` : ''}`
		)
	]);
	const { projects } = await event.parent();
	const project = projects.find((p) => p.id === test.projectId) ?? null;
	return {
		test,
		history: history.items,
		runs: { items: runsPage.items, older: runsPage.nextCursor, paged: !!runsCursor, perPage: RUNS_PAGE },
		project,
		projectSlug: project?.slug
	};
}) satisfies PageServerLoad;

export const actions = {
	quarantine: async (event) => {
		const form = await event.request.formData();
		const reason = String(form.get('reason') ?? '').trim();
		const days = Number(form.get('days') ?? '0');
		if (!reason) return fail(400, { action: 'quarantine', reason, message: 'Say why: the reason is shown to everyone who sees this test.' });
		if (reason.length > 1000) return fail(400, { action: 'quarantine', reason, message: 'Keep the reason under 1000 characters.' });
		const body: { reason: string; expiresAt?: string } = { reason };
		if (Number.isInteger(days) && days > 0 && days <= 365) body.expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
		const r = await call(event, 'POST', `/tests/${event.params.id}/quarantine`, body);
		if (!r.ok) return fail(r.status === 403 ? 403 : 400, { action: 'quarantine', reason, message: r.message });
		return { action: 'quarantine', done: 'Quarantined. The reporter learns of it when the next run starts.' };
	},
	release: async (event) => {
		const r = await call(event, 'DELETE', `/tests/${event.params.id}/quarantine`);
		if (!r.ok && r.status !== 404) return fail(r.status === 403 ? 403 : 400, { action: 'release', message: r.message });
		return { action: 'release', done: 'Released from quarantine; the analysis judges it again from its history.' };
	}
} satisfies Actions;
