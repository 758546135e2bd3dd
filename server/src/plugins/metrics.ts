import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerOf } from '../auth/plugin.js';
import { HttpError } from '../lib/http-errors.js';
import { sameSecret } from '../lib/tokens.js';

declare module 'fastify' {
	interface FastifyInstance {
		metrics: AppMetrics;
	}
}

export interface AppMetrics {
	registry: Registry;
	runsIngested: Counter<'source' | 'created'>;
	resultsIngested: Counter<'source'>;
	bytesIngested: Counter<'encoding'>;
	analysisJobs: Counter<'outcome'>;
	analysisDuration: Histogram;
	testsAnalysed: Counter<'path'>;
}

/**
 * Prometheus metrics at /metrics: requests and latency per route, errors per route, ingestion,
 * the analysis queue and the database pool. One registry per app instance (tests build many).
 */
export default fp(
	async function metrics(app: FastifyInstance) {
		const registry = new Registry();
		processMetrics(registry, app);

		const requests = new Histogram({
			name: 'flackyness_http_request_duration_seconds',
			help: 'HTTP request latency by route, method and status code',
			labelNames: ['method', 'route', 'status_code'] as const,
			buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
			registers: [registry]
		});
		const errors = new Counter({
			name: 'flackyness_http_errors_total',
			help: 'Answers with a 4xx or 5xx status, by route and status code',
			labelNames: ['method', 'route', 'status_code'] as const,
			registers: [registry]
		});
		const m: AppMetrics = {
			registry,
			runsIngested: new Counter({
				name: 'flackyness_ingested_runs_total',
				help: 'Runs opened or uploaded, by source and whether they were new',
				labelNames: ['source', 'created'] as const,
				registers: [registry]
			}),
			resultsIngested: new Counter({
				name: 'flackyness_ingested_results_total',
				help: 'Test results stored (duplicates not counted)',
				labelNames: ['source'] as const,
				registers: [registry]
			}),
			bytesIngested: new Counter({
				name: 'flackyness_ingested_bytes_total',
				help: 'Bytes of uploaded reports as received, by content encoding',
				labelNames: ['encoding'] as const,
				registers: [registry]
			}),
			analysisJobs: new Counter({
				name: 'flackyness_analysis_jobs_total',
				help: 'Analysis jobs processed, by outcome',
				labelNames: ['outcome'] as const,
				registers: [registry]
			}),
			analysisDuration: new Histogram({
				name: 'flackyness_analysis_batch_duration_seconds',
				help: 'Time to process one batch of analysis jobs',
				buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
				registers: [registry]
			}),
			testsAnalysed: new Counter({
				name: 'flackyness_analysis_tests_total',
				help: 'Tests whose verdict was updated, by path (full analysis or fast path)',
				labelNames: ['path'] as const,
				registers: [registry]
			})
		};
		new Gauge({
			name: 'flackyness_analysis_queue_depth',
			help: 'Analysis jobs waiting',
			registers: [registry],
			async collect() {
				try {
					const { rows } = await app.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analysis_jobs');
					this.set(rows[0]!.n);
				} catch {
					// The database is down: /health says so; metrics keep answering.
				}
			}
		});
		const pool = app.db.pool;
		new Gauge({
			name: 'flackyness_db_pool_connections',
			help: 'Database pool connections by state',
			labelNames: ['state'] as const,
			registers: [registry],
			collect() {
				this.set({ state: 'total' }, pool.totalCount);
				this.set({ state: 'idle' }, pool.idleCount);
				this.set({ state: 'waiting' }, pool.waitingCount);
			}
		});
		app.decorate('metrics', m);

		app.addHook('onResponse', async (request, reply) => {
			const route = request.routeOptions.url ?? 'unmatched';
			const labels = { method: request.method, route, status_code: String(reply.statusCode) };
			requests.observe(labels, reply.elapsedTime / 1000);
			if (reply.statusCode >= 400) errors.inc(labels);
		});

		const metricsToken = app.config.METRICS_TOKEN;
		app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
			// Open unless METRICS_TOKEN is set: scrapers on a private network need no secret, and a
			// public server keeps its traffic and pool figures to whoever holds the token.
			if (metricsToken && !sameSecret(bearerOf(request), metricsToken)) {
				throw new HttpError(401, 'Invalid token: /metrics takes the METRICS_TOKEN.', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
			}
			reply.header('content-type', registry.contentType);
			return registry.metrics();
		});
	},
	{ name: 'metrics' }
);

/**
 * A few process metrics of our own: prom-client's defaults include gauges named *_total, which
 * promtool rejects.
 */
function processMetrics(registry: Registry, app: FastifyInstance) {
	const loop = monitorEventLoopDelay({ resolution: 20 });
	loop.enable();
	app.addHook('onClose', async () => loop.disable());
	new Gauge({
		name: 'flackyness_process_resident_memory_bytes',
		help: 'Resident set size of the server process',
		registers: [registry],
		collect() {
			this.set(process.memoryUsage().rss);
		}
	});
	new Gauge({
		name: 'flackyness_process_heap_used_bytes',
		help: 'V8 heap in use',
		registers: [registry],
		collect() {
			this.set(process.memoryUsage().heapUsed);
		}
	});
	new Gauge({
		name: 'flackyness_process_cpu_seconds',
		help: 'CPU time used by the server process since it started (user + system)',
		registers: [registry],
		collect() {
			const u = process.cpuUsage();
			this.set((u.user + u.system) / 1e6);
		}
	});
	new Gauge({
		name: 'flackyness_event_loop_delay_p99_seconds',
		help: '99th percentile of the event loop delay since the last scrape',
		registers: [registry],
		collect() {
			this.set(loop.percentile(99) / 1e9);
			loop.reset();
		}
	});
}
