import { describe, expect, it } from 'vitest';
import type { PipelineRun, PipelineTotals } from '../repositories/gitlab-reports.js';
import { duration, judge, percent, renderNote, statusDescription, type Judged, type NoteInput } from './gitlab-note.js';

const start = new Date('2026-11-20T10:00:00Z');
const before = new Date('2026-11-19T10:00:00Z');

function failure(title: string, over: Partial<Judged> = {}): Judged {
	return {
		testId: `00000000-0000-4000-8000-${String(title.length).padStart(12, '0')}`,
		runId: 'r1',
		file: 'a.spec.ts',
		titlePath: ['suite', title],
		projectName: '',
		outcome: 'unexpected',
		attempts: 2,
		failedAttempts: 2,
		durationMs: 1000,
		errorMessage: 'Error: boom',
		state: 'healthy',
		score: null,
		scoreLow: null,
		scoreHigh: null,
		firstDetectedAt: null,
		changePointSha: null,
		changePointAt: null,
		quarantined: false,
		quarantineReason: null,
		kind: 'new',
		...over
	};
}

const run: PipelineRun = {
	id: 'r1',
	status: 'failed',
	commitSha: 'abcdef0123456789',
	branch: 'feature/x',
	projectPath: 'group/app',
	pipelineIid: '12',
	pipelineUrl: null,
	jobName: 'e2e',
	jobUrl: null,
	mrIid: 1,
	mrTargetBranch: 'main',
	isDefaultBranch: false,
	startedAt: start,
	total: 10,
	unexpected: 1,
	infraFailure: false,
	infraReason: null
};
const totals: PipelineTotals = { tests: 812, passed: 809, flaky: 3, failed: 0, skipped: 0, lostMs: 72_000 };

function input(results: Judged[], over: Partial<NoteInput> = {}): NoteInput {
	return { pipelineId: '99', runs: [run], totals, results, omitted: 0, defaultBranch: 'main', dashboard: 'https://fk.example', ...over };
}

describe('judge', () => {
	it('forgives only what was known before the pipeline began', () => {
		expect(judge(failure('q', { quarantined: true, state: 'broken' }), start)).toBe('quarantined');
		expect(judge(failure('b', { state: 'broken', changePointSha: 'abc', changePointAt: before }), start)).toBe('broken');
		// A break that began in this very pipeline is news to the MR.
		expect(judge(failure('b', { state: 'broken', changePointSha: 'abc', changePointAt: start }), start)).toBe('new');
		expect(judge(failure('f', { state: 'flaky', firstDetectedAt: before }), start)).toBe('flaky');
		expect(judge(failure('f', { state: 'fixed', firstDetectedAt: before }), start)).toBe('flaky');
		expect(judge(failure('f', { state: 'flaky', firstDetectedAt: new Date(start.getTime() + 1) }), start)).toBe('new');
		expect(judge(failure('s', { state: 'suspect' }), start)).toBe('new');
		expect(judge(failure('u', { state: null }), start)).toBe('new');
		// Failing on feature branches only (this MR's own among them): new, the MR's doing.
		expect(judge(failure('g', { state: 'failing', firstDetectedAt: before }), start)).toBe('new');
	});
});

describe('renderNote', () => {
	it('is useful with zero failures', () => {
		const retried = [failure('r1', { outcome: 'flaky', kind: 'flaky', score: 0.07, scoreLow: 0.03, scoreHigh: 0.12 }), failure('r22', { outcome: 'flaky', kind: 'flaky', score: 0.2, scoreLow: 0.1, scoreHigh: 0.3 })];
		const note = renderNote(input(retried));
		expect(note).toContain('✅ Flackyness: all 812 tests passed');
		expect(note).toContain('2 tests passed only on retry: known flaky.');
		expect(note).toContain('CI time lost to flaky retries: 1 min 12 s.');
		expect(note).toContain('flaky: 7% per attempt (3%–12%)');
	});

	it('keeps titles and errors inert: Markdown, HTML, mentions and backticks stay text', () => {
		const note = renderNote(input([failure('@all <img src=x onerror=alert(1)> `code` [x](http://evil)', { errorMessage: 'Error: `a`\n**b** #1' })]));
		const line = note.split('\n').find((l) => l.includes('onerror'))!;
		expect(line).toMatch(/^- \[`a\.spec\.ts › suite › @all <img src=x onerror=alert\(1\)> ʼcodeʼ \[x\]\(http:\/\/evil\)`\]\(https:\/\/fk\.example\/tests\/[0-9a-f-]+\) — `Error: ʼaʼ`$/);
	});

	it('folds a long section and says how many were left out', () => {
		const many = Array.from({ length: 7 }, (_, i) => failure(`t${'x'.repeat(i)}`));
		const note = renderNote(input(many, { omitted: 3, totals: { ...totals, failed: 10 } }));
		expect(note).toContain("<details><summary><b>New: failing here, not known to fail on main, likely this MR's doing (7)</b></summary>");
		expect(note).toContain('…and 3 more tests that failed or passed on retry');
	});

	it('names the default branch even when it is unknown', () => {
		const note = renderNote(input([failure('b', { kind: 'broken', changePointSha: '0123456789abcdef' })], { defaultBranch: null }));
		expect(note).toContain('broken on the default branch since `01234567`');
	});
});

describe('statusDescription', () => {
	it('fails on a new failure only', () => {
		expect(statusDescription([failure('a'), failure('b', { kind: 'flaky' })], input([]))).toEqual({ state: 'failed', description: '1 new failure (not known flaky, not broken on main)' });
		expect(statusDescription([failure('b', { kind: 'flaky' }), failure('c', { kind: 'quarantined' }), failure('d', { kind: 'broken' })], input([]))).toEqual({
			state: 'success',
			description: 'No new failures: 1 known flaky, 1 broken on main too, 1 quarantined'
		});
		expect(statusDescription([], input([])).description).toBe('All 812 tests passed');
	});
});

describe('figures', () => {
	it('writes percentages and durations as people read them', () => {
		expect([percent(0), percent(0.004), percent(0.07), percent(0.125)]).toEqual(['0%', '0.4%', '7%', '13%']);
		expect([duration(400), duration(59_000), duration(72_000), duration(3_600_000 + 120_000)]).toEqual(['0 s', '59 s', '1 min 12 s', '1 h 2 min']);
	});
});
