/**
 * Playwright-shaped errors for simulated failures: ANSI-coloured messages, a code snippet, a stack
 * frame, and the `errors[]` entries the JSON reporter writes (message + plain snippet + frame).
 */
import type { JSONReportError } from '@playwright/test/reporter';

const ESC = String.fromCharCode(27);
const dim = (s: string) => `${ESC}[2m${s}${ESC}[22m`;
const red = (s: string) => `${ESC}[31m${s}${ESC}[39m`;
const green = (s: string) => `${ESC}[32m${s}${ESC}[39m`;
const grey = (s: string) => `${ESC}[90m${s}${ESC}[39m`;
const boldRed = (s: string) => `${ESC}[31m${ESC}[1m${s}${ESC}[22m${ESC}[39m`;

export type SimError =
	/** An action waited too long (typical flake). */
	| { kind: 'action-timeout'; action: 'click' | 'fill' | 'check'; locator: string }
	/** A web-first assertion saw stale text (typical flake, or a regression). */
	| { kind: 'expect-text'; locator: string; expected: string; received: string }
	/** An element never appeared. */
	| { kind: 'expect-visible'; locator: string }
	/** The whole test ran out of time (status `timedOut`). */
	| { kind: 'test-timeout' }
	/** A plain value assertion (regressions). */
	| { kind: 'expect-tobe'; expected: string; received: string }
	/** The failure a test.fail() test expects. */
	| { kind: 'expected-failure' }
	/** Infrastructure: the application under test is down. */
	| { kind: 'conn-refused'; path: string }
	/** Infrastructure: the browser could not start. */
	| { kind: 'browser-launch'; pid: number; profile: string }
	/** Infrastructure: the worker's browser died mid-test. */
	| { kind: 'target-closed'; locator: string };

export interface ErrorSite {
	/** Absolute path of the spec file on the CI machine. */
	absFile: string;
	line: number;
	column: number;
	/** Source line that failed, shown in the snippet. */
	code: string;
}

export interface BuiltError {
	status: 'failed' | 'timedOut';
	/** `results[].error` */
	error: { message: string; stack?: string; location?: { file: string; line: number; column: number }; snippet?: string };
	/** `results[].errors` */
	errors: JSONReportError[];
}

function headline(e: SimError): { text: string; status: 'failed' | 'timedOut'; located: boolean } {
	switch (e.kind) {
		case 'action-timeout':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: locator.${e.action}: Timeout 5000ms exceeded.\nCall log:\n` +
					`${dim(`  - waiting for ${e.locator}`)}\n${dim('    - locator resolved to <button class="btn btn-primary">…</button>')}\n` +
					`${dim('  - attempting click action')}\n${dim('    - waiting for element to be visible, enabled and stable')}\n`
			};
		case 'expect-text':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: ${dim('expect(')}${red('locator')}${dim(').')}toHaveText${dim('(')}${green('expected')}${dim(')')} failed\n\n` +
					`Locator:  ${e.locator}\nExpected: ${green(JSON.stringify(e.expected))}\nReceived: ${red(JSON.stringify(e.received))}\n` +
					`Timeout:  5000ms\n\nCall log:\n${dim('  - Expect "toHaveText" with timeout 5000ms')}\n${dim(`  - waiting for ${e.locator}`)}\n`
			};
		case 'expect-visible':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: ${dim('expect(')}${red('locator')}${dim(').')}toBeVisible${dim('()')} failed\n\n` +
					`Locator:  ${e.locator}\nExpected: visible\nTimeout:  5000ms\nError: element(s) not found\n\n` +
					`Call log:\n${dim('  - Expect "toBeVisible" with timeout 5000ms')}\n${dim(`  - waiting for ${e.locator}`)}\n`
			};
		case 'test-timeout':
			return { status: 'timedOut', located: false, text: 'Test timeout of 30000ms exceeded.' };
		case 'expect-tobe':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: ${dim('expect(')}${red('received')}${dim(').')}toBe${dim('(')}${green('expected')}${dim(') // Object.is equality')}\n\n` +
					`Expected: ${green(e.expected)}\nReceived: ${red(e.received)}`
			};
		case 'expected-failure':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: ${dim('expect(')}${red('received')}${dim(').')}toBeTruthy${dim('()')}\n\n` +
					`Received: ${red('false')}`
			};
		case 'conn-refused':
			return {
				status: 'failed',
				located: true,
				text:
					`Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000${e.path}\nCall log:\n` +
					`${dim(`  - navigating to "http://localhost:3000${e.path}", waiting until "load"`)}\n`
			};
		case 'browser-launch':
			return {
				status: 'failed',
				located: false,
				text:
					`Error: browserType.launch: Browser closed.\n==================== Browser output: ====================\n` +
					`<launching> /root/.cache/ms-playwright/chromium_headless_shell-1187/chrome-linux/headless_shell ` +
					`--disable-field-trial-config --headless --no-sandbox --user-data-dir=/tmp/playwright_chromiumdev_profile-${e.profile} ` +
					`--remote-debugging-pipe --no-startup-window\n<launched> pid=${e.pid}\n` +
					`[pid=${e.pid}][err] [0101/000000.000000:FATAL:zygote_host_impl_linux.cc(127)] No usable sandbox!\n` +
					`=========================== logs ===========================\n<launched> pid=${e.pid}\n` +
					`============================================================`
			};
		case 'target-closed':
			return {
				status: 'failed',
				located: true,
				text: `Error: locator.click: Target page, context or browser has been closed\nCall log:\n${dim(`  - waiting for ${e.locator}`)}\n`
			};
	}
}

function snippet(site: ErrorSite, colour: boolean): string {
	const rows: string[] = [];
	const width = String(site.line + 2).length;
	for (let n = site.line - 2; n <= site.line + 2; n++) {
		if (n < 1) continue;
		const code = n === site.line ? site.code : n < site.line ? '    await page.waitForLoadState();' : '  });';
		const num = String(n).padStart(width);
		if (colour) rows.push(n === site.line ? `${boldRed('>')}${grey(` ${num} |`)} ${code}` : ` ${grey(` ${num} |`)} ${code}`);
		else rows.push(`${n === site.line ? '>' : ' '} ${num} | ${code}`);
		if (n === site.line) {
			const caret = `${' '.repeat(Math.max(0, site.column - 1))}^`;
			rows.push(colour ? ` ${grey(` ${' '.repeat(width)} |`)} ${boldRed(caret)}` : `  ${' '.repeat(width)} | ${caret}`);
		}
	}
	return rows.join('\n');
}

export function buildError(e: SimError, site: ErrorSite): BuiltError {
	const { text, status, located } = headline(e);
	if (!located) {
		return { status, error: { message: text, stack: text }, errors: [{ message: text }] };
	}
	const location = { file: site.absFile, line: site.line, column: site.column };
	const frame = `    at ${site.absFile}:${site.line}:${site.column}`;
	return {
		status,
		error: { message: text, stack: `${text}\n${frame}`, location, snippet: snippet(site, true) },
		errors: [{ message: `${text}\n\n${snippet(site, false)}\n${frame}`, location }]
	};
}
