/**
 * The real `playwright test` streaming titles that hold lone surrogates to the real server: the
 * reporter must never send a batch the server cannot store, so the whole run arrives, with U+FFFD
 * where half an emoji was, as the same report uploaded as JSON is stored.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaywright, spoolFiles } from '../helpers/playwright.js';
import { startRealServer, type Project, type RealServer } from './helpers/server.js';
import { storedResults, storedRuns, uploadJsonReport } from './helpers/stored.js';

let server: RealServer;
let streamed: Project;
let uploaded: Project;
beforeAll(async () => {
	server = await startRealServer();
	streamed = await server.createProject('odd-streamed');
	uploaded = await server.createProject('odd-uploaded');
}, 300_000);
afterAll(async () => {
	await server?.destroy();
});

describe('lone surrogates in a real run', { timeout: 300_000 }, () => {
	it('stores the whole streamed run, with U+FFFD for half an emoji, as the JSON upload stores it', async () => {
		const run = await runPlaywright('odd-text', { FLACKYNESS_URL: server.url, FLACKYNESS_TOKEN: streamed.token });
		expect(run.code).toBe(1);
		expect(spoolFiles(run.suiteDir), run.lines.join('\n')).toEqual([]);
		const [stored] = await storedRuns(server, streamed);
		expect(stored).toMatchObject({ status: 'failed', total: 3, expected: 2, unexpected: 1 });

		const results = await storedResults(server, [stored!.id]);
		const titles = results.map((r) => r.titlePath).sort();
		expect(titles).toEqual([
			['describe \uFFFD', 'an ordinary neighbour'],
			['describe \uFFFD', 'cut emoji \uFFFD'],
			['describe \uFFFD', 'fails with a cut emoji \uFFFD']
		]);
		const cut = results.find((r) => r.titlePath[1] === 'cut emoji \uFFFD')!;
		expect(cut.tags).toEqual(['odd\uFFFD']);
		expect(cut.annotations).toEqual([{ type: 'note', description: 'see \uFFFD' }]);
		const failed = results.find((r) => r.titlePath[1] === 'fails with a cut emoji \uFFFD')!;
		expect(failed.errorMessage).toContain('broken \uFFFD here');

		const receipt = await uploadJsonReport(server, uploaded, path.join(run.suiteDir, 'report.json'));
		expect(receipt.created).toBe(true);
		expect(await storedResults(server, [receipt.runId])).toEqual(results);
	});
});
