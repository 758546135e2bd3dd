import { Counter, type Registry } from 'prom-client';
import type { GitlabFailure } from './gitlab-client.js';

const NAME = 'flackyness_gitlab_calls_total';

/**
 * Calls to GitLab by operation and outcome, in the app's registry. Every part that talks to GitLab
 * (test connection now, the notes and statuses queue later) asks for it here: one metric per registry.
 */
export function gitlabCallCounter(registry: Registry): (operation: string, outcome: 'ok' | GitlabFailure) => void {
	const counter =
		(registry.getSingleMetric(NAME) as Counter<'operation' | 'outcome'> | undefined) ??
		new Counter({ name: NAME, help: 'Calls to GitLab by operation and outcome (ok, or the kind of failure)', labelNames: ['operation', 'outcome'] as const, registers: [registry] });
	return (operation, outcome) => counter.inc({ operation, outcome });
}
