/**
 * Builds Playwright JSON reports (the 1.5x/1.6x layout) of any size, for ingestion tests and the
 * ingestion benchmark: several browser projects, retries, flaky and failing tests, ANSI-coloured
 * errors with stack traces.
 */

export interface ReportOptions {
	/** Number of tests per project. */
	tests: number;
	projects?: string[];
	/** Tests per spec file. */
	perFile?: number;
	retries?: number;
	/** Share of tests failing every attempt. */
	failRate?: number;
	/** Share of tests failing first and passing on retry. */
	flakyRate?: number;
	skipRate?: number;
	seed?: number;
	startTime?: string;
	version?: string;
	shard?: { current: number; total: number } | null;
	titlePrefix?: string;
}

/** A small seeded generator (mulberry32): the same seed, the same numbers. */
export function rng(seed: number) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function errorOf(file: string, line: number, n: number) {
	const message =
		`\u001b[31mError: \u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).\u001b[22mtoBe\u001b[2m(\u001b[22m\u001b[32mexpected\u001b[39m\u001b[2m)\u001b[22m\n\n` +
		`Expected: \u001b[32m${n}\u001b[39m\nReceived: \u001b[31m${n + 1}\u001b[39m\n\n` +
		`  ${line - 1} |   const value = await page.locator('#total').textContent();\n` +
		`> ${line} |   expect(Number(value)).toBe(${n});\n     |                         ^`;
	const stack =
		`Error: expect(received).toBe(expected)\n    at /builds/group/app/tests/${file}:${line}:25\n` +
		`    at /builds/group/app/node_modules/playwright/lib/worker/workerMain.js:339:9\n` +
		`    at TestInfoImpl._runAsStep (/builds/group/app/node_modules/playwright/lib/worker/testInfo.js:230:15)`;
	return { message, stack, location: { file: `/builds/group/app/tests/${file}`, column: 25, line } };
}

export function makeReport(opts: ReportOptions): Record<string, unknown> {
	const projects = opts.projects ?? ['chromium'];
	const perFile = opts.perFile ?? 20;
	const retries = opts.retries ?? 0;
	const random = rng(opts.seed ?? 1);
	const start = Date.parse(opts.startTime ?? '2026-11-01T10:00:00.000Z');
	const stats = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
	const files = new Map<string, Array<Record<string, unknown>>>();

	for (let i = 0; i < opts.tests; i++) {
		const file = `feature-${Math.floor(i / perFile)}.spec.ts`;
		const line = 10 + (i % perFile) * 7;
		const tests = projects.map((projectName) => {
			const roll = random();
			const fail = roll < (opts.failRate ?? 0);
			const flaky = !fail && roll < (opts.failRate ?? 0) + (opts.flakyRate ?? 0) && retries > 0;
			const skipped = !fail && !flaky && random() < (opts.skipRate ?? 0);
			const attempts = skipped ? 1 : fail ? retries + 1 : flaky ? 2 : 1;
			const results = Array.from({ length: attempts }, (_, retry) => {
				const failed = fail || (flaky && retry === 0);
				const duration = Math.round(200 + random() * 3000);
				return {
					workerIndex: retry,
					parallelIndex: 0,
					status: skipped ? 'skipped' : failed ? 'failed' : 'passed',
					duration,
					errors: failed ? [errorOf(file, line, i)] : [],
					stdout: [],
					stderr: [],
					retry,
					startTime: new Date(start + i * 50 + retry * 4000).toISOString(),
					annotations: [],
					attachments: [],
					...(failed ? { error: errorOf(file, line, i), errorLocation: { file, line, column: 25 } } : {})
				};
			});
			const status = skipped ? 'skipped' : fail ? 'unexpected' : flaky ? 'flaky' : 'expected';
			stats[status === 'skipped' ? 'skipped' : status]++;
			return {
				timeout: 30000,
				annotations: skipped ? [{ type: 'skip', description: 'not on this platform' }] : [],
				expectedStatus: skipped ? 'skipped' : 'passed',
				projectId: projectName,
				projectName,
				results,
				status
			};
		});
		const spec = {
			title: `${opts.titlePrefix ?? ''}case ${i} computes total ${i}`,
			ok: tests.every((t) => t.status !== 'unexpected'),
			tags: i % 10 === 0 ? ['smoke'] : [],
			tests,
			id: `id-${i}`,
			file,
			line,
			column: 5
		};
		if (!files.has(file)) files.set(file, []);
		files.get(file)!.push(spec);
	}

	const suites = [...files.entries()].map(([file, specs]) => ({
		title: file,
		file,
		line: 0,
		column: 0,
		specs: [],
		suites: [{ title: `feature ${file.replace('.spec.ts', '')}`, file, line: 3, column: 6, specs }]
	}));
	return {
		config: {
			configFile: '/builds/group/app/playwright.config.ts',
			rootDir: '/builds/group/app/tests',
			forbidOnly: true,
			fullyParallel: true,
			globalTimeout: 0,
			grep: {},
			grepInvert: null,
			maxFailures: 0,
			metadata: { actualWorkers: 4 },
			preserveOutput: 'always',
			projects: projects.map((name) => ({ id: name, name, retries, testDir: '/builds/group/app/tests', timeout: 30000 })),
			shard: opts.shard ?? null,
			updateSnapshots: 'missing',
			version: opts.version ?? '1.65.1',
			workers: 4
		},
		suites,
		errors: [],
		stats: { startTime: new Date(start).toISOString(), duration: opts.tests * 60.5, ...stats }
	};
}
