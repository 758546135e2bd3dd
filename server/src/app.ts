import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import auth from './auth/plugin.js';
import { HttpError } from './lib/http-errors.js';
import { PROTOCOL_HEADER, protocolMismatch } from 'flackyness-reporter/protocol';
import { secretBox, sessionSecret } from './bootstrap.js';
import type { SecretBox } from './lib/secrets.js';
import analysisWorker from './plugins/analysis-worker.js';
import gitlabWorker from './plugins/gitlab-worker.js';
import webhookWorker from './plugins/webhook-worker.js';
import errors from './plugins/errors.js';
import metrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import rateLimit from './plugins/rate-limit.js';
import runSweeper from './plugins/run-sweeper.js';
import security from './plugins/security.js';
import admin from './routes/api/admin.js';
import reports from './routes/api/reports.js';
import runs from './routes/api/runs.js';
import health from './routes/health.js';
import read from './routes/api/read.js';
import authRoutes, { dashboardKey } from './routes/api/auth.js';
import settings from './routes/api/settings.js';
import integrations from './routes/api/integrations.js';
import users from './routes/api/users.js';
import verdicts from './routes/api/verdicts.js';
import newTests from './routes/api/new-tests.js';
import webhooks from './routes/api/webhooks.js';
import views from './routes/api/views.js';

declare module 'fastify' {
	interface FastifyInstance {
		db: Database;
		config: Config;
		/** Seals and opens secrets other systems issued (GitLab tokens); made on first use. */
		secretBox: () => Promise<SecretBox>;
		/**
		 * The secret box for a route that stores or reads `what` (e.g. "GitLab tokens"): when no key can
		 * be had, logs why and answers 503 saying which setting is missing.
		 */
		secretsFor: (what: string) => Promise<SecretBox>;
	}
}

export interface AppOptions {
	config: Config;
	db: Database;
	version: string;
	migrationsDir?: string;
	/** Signs session tokens; default: JWT_SECRET, or the secret kept in DATA_DIR. */
	sessionSecret?: string;
}

/**
 * Where a dashboard running in this process finds the key that lets it pass on the address of the
 * person signing in (see routes/api/auth.ts); a dashboard of its own derives it from JWT_SECRET.
 */
export const DASHBOARD_KEY = Symbol.for('flackyness.dashboardKey');

const PROTO_HEADER = 'x-flackyness-proto';
const HOST_HEADER = 'x-flackyness-host';
const ADDRESS_HEADER = 'x-flackyness-address';

/**
 * The SvelteKit dashboard that server.ts mounts in this process reads its own URL and the caller's
 * address from the raw request (adapter-node's ORIGIN, PROTOCOL_HEADER, HOST_HEADER and
 * ADDRESS_HEADER, read when it loads). Its CSRF check compares the browser's Origin with that URL,
 * and adapter-node assumes https when told nothing — so every form post over plain http would be
 * refused. Fastify knows the truth (behind a proxy too, with TRUST_PROXY): it writes it into headers
 * of its own, overwriting whatever a client sent, and points adapter-node at them. PUBLIC_URL, when
 * set, is the one origin; ORIGIN or the *_HEADER variables set by hand win over both.
 */
function mountedDashboardSees(app: FastifyInstance, config: Config) {
	const env = process.env;
	if (env.ORIGIN === undefined && config.PUBLIC_URL) env.ORIGIN = new URL(config.PUBLIC_URL).origin;
	const ownProto = env.ORIGIN === undefined && env.PROTOCOL_HEADER === undefined && env.HOST_HEADER === undefined;
	if (ownProto) {
		env.PROTOCOL_HEADER = PROTO_HEADER;
		env.HOST_HEADER = HOST_HEADER;
	}
	const ownAddress = env.ADDRESS_HEADER === undefined;
	if (ownAddress) env.ADDRESS_HEADER = ADDRESS_HEADER;
	app.addHook('onRequest', async (request) => {
		if (request.url.startsWith('/api/')) return;
		const headers = request.raw.headers;
		if (env.PROTOCOL_HEADER === PROTO_HEADER) headers[PROTO_HEADER] = request.protocol;
		if (env.HOST_HEADER === HOST_HEADER) headers[HOST_HEADER] = request.host;
		if (env.ADDRESS_HEADER === ADDRESS_HEADER) headers[ADDRESS_HEADER] = request.ip;
	});
}

/** The whole application as one plugin; server.ts only adds logging, listening and shutdown. */
async function app(instance: FastifyInstance, opts: AppOptions) {
	instance.setValidatorCompiler(validatorCompiler);
	instance.setSerializerCompiler(serializerCompiler);
	instance.decorate('db', opts.db);
	instance.decorate('config', opts.config);
	// Made on first use, not at start: a server that never stores a GitLab token writes no key file
	// (DATA_DIR may be read-only when JWT_SECRET is set). A failure is not kept: the next use tries again.
	let box: Promise<SecretBox> | undefined;
	instance.decorate('secretBox', () =>
		(box ??= secretBox(opts.config).catch((err: unknown) => {
			box = undefined;
			throw err;
		}))
	);
	instance.decorate('secretsFor', (what: string) =>
		instance.secretBox().catch((err: unknown) => {
			instance.log.error({ event: 'secrets_key_unavailable', what, err }, 'no SECRETS_KEY, and DATA_DIR/secrets-key cannot be made');
			throw new HttpError(
				503,
				`${what} cannot be stored or read: SECRETS_KEY is not set and ${opts.config.DATA_DIR}/secrets-key cannot be written. Set SECRETS_KEY.`
			);
		})
	);

	await instance.register(errors);
	// A reporter newer than this server is told so, before anything it sent is read or stored.
	instance.addHook('onRequest', async (request) => {
		if (!request.url.startsWith('/api/v1/')) return;
		const mismatch = protocolMismatch(request.headers[PROTOCOL_HEADER]);
		if (mismatch) throw new HttpError(400, mismatch);
	});
	await instance.register(metrics);
	await instance.register(security, { corsOrigins: opts.config.CORS_ORIGINS });
	await instance.register(rateLimit);
	const secret = opts.sessionSecret ?? (await sessionSecret(opts.config));
	await instance.register(jwt, {
		secret,
		sign: { algorithm: 'HS256', iss: 'flackyness', expiresIn: opts.config.SESSION_MINUTES * 60 },
		// allowedIss alone accepts a token without `iss`, and a token without `exp` would never expire.
		verify: { algorithms: ['HS256'], allowedIss: 'flackyness', requiredClaims: ['iss', 'exp', 'sub'] }
	});
	(globalThis as Record<symbol, unknown>)[DASHBOARD_KEY] = dashboardKey(secret);
	mountedDashboardSees(instance, opts.config);
	await instance.register(auth);
	await instance.register(openapi, { version: opts.version });
	await instance.register(runSweeper, { timeoutMinutes: opts.config.RUN_TIMEOUT_MINUTES, retentionDays: opts.config.RETENTION_DAYS });
	await instance.register(analysisWorker, { enabled: opts.config.ANALYSIS_WORKER, pollMs: opts.config.ANALYSIS_POLL_MS });
	await instance.register(gitlabWorker, { enabled: opts.config.ANALYSIS_WORKER, pollMs: opts.config.GITLAB_POLL_MS });
	// Events are written by the analysis: looked for at its pace.
	await instance.register(webhookWorker, { enabled: opts.config.ANALYSIS_WORKER, pollMs: opts.config.ANALYSIS_POLL_MS });

	await instance.register(health, { version: opts.version, migrationsDir: opts.migrationsDir });
	await instance.register(reports);
	await instance.register(runs);
	await instance.register(admin);
	await instance.register(read);
	await instance.register(authRoutes, { secret });
	await instance.register(users);
	await instance.register(settings);
	await instance.register(integrations);
	await instance.register(verdicts);
	await instance.register(newTests);
	await instance.register(webhooks);
	await instance.register(views);

	// The dashboard, mounted by server.ts on every other path, reads its form posts from the raw
	// request: Fastify must leave those bodies unread. Added last, so that it reaches only the root
	// (where the dashboard's route lives), not the API's encapsulated routes, which keep refusing them.
	instance.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'], (request, _payload, done) => {
		if (request.url.startsWith('/api/')) done(new HttpError(415, 'Unsupported Content-Type; send application/json.'), undefined);
		else done(null, undefined);
	});
}

export default fp(app, { name: 'flackyness-app', fastify: '5.x' });
