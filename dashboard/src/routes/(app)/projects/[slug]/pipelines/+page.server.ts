import { get, query } from '$lib/server/api';
import { publicUrl } from '$lib/server/config';
import type { Facets, Page, PipelineOutcome, PipelineRow } from '$lib/types';
import type { PageServerLoad } from './$types';

const OUTCOMES: PipelineOutcome[] = ['failed', 'flaky', 'incomplete', 'running', 'passed'];

export const load = (async (event) => {
	const { project } = await event.parent();
	const p = event.url.searchParams;
	const page = Number(p.get('page') ?? '1');
	const outcome = p.get('outcome') ?? '';
	const filters = {
		branch: (p.get('branch') ?? '').slice(0, 255),
		outcome: (OUTCOMES as string[]).includes(outcome) ? outcome : '',
		page: Number.isInteger(page) && page >= 1 && page <= 10_000 ? page : 1
	};
	const slug = encodeURIComponent(project.slug);
	const [pipelines, facets] = await Promise.all([
		get<Page<PipelineRow>>(event, `/projects/${slug}/pipelines${query({ ...filters, pageSize: 25 })}`),
		get<Facets>(event, `/projects/${slug}/facets`)
	]);
	return { pipelines, facets, filters, outcomes: OUTCOMES, serverUrl: publicUrl(event.url) };
}) satisfies PageServerLoad;
