import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileOwners, loadCodeowners, ownersOf, ownerWords, parseCodeowners, patternGlobs, repositoryRoot } from './codeowners.js';

const owners = (text: string, file: string) => ownersOf(parseCodeowners(text), file);

describe('CODEOWNERS patterns (GitLab reference)', () => {
	it('a lone * owns every file, at any depth, dot files included', () => {
		const text = '* @everyone';
		for (const file of ['README.md', 'src/app.ts', 'a/b/c/d.rb', '.gitlab-ci.yml', 'x/.hidden/y.ts']) expect(owners(text, file)).toEqual(['@everyone']);
	});

	it('the last matching entry wins: a later extension rule overrides the catch-all', () => {
		const text = ['* @fallback', '*.rb @rubyists'].join('\n');
		expect(owners(text, 'lib/models/user.rb')).toEqual(['@rubyists']);
		expect(owners(text, 'lib/models/user.ts')).toEqual(['@fallback']);
	});

	it('an earlier, more specific rule loses to a later general one', () => {
		const text = ['/app/special.ts @specialists', '*.ts @typescript'].join('\n');
		expect(owners(text, 'app/special.ts')).toEqual(['@typescript']);
	});

	it('a trailing / owns everything under the directory, at every level', () => {
		const text = '/handbook/ @writers';
		expect(owners(text, 'handbook/index.md')).toEqual(['@writers']);
		expect(owners(text, 'handbook/teams/qa/index.md')).toEqual(['@writers']);
		expect(owners(text, 'other/handbook/index.md')).toEqual([]);
		expect(owners(text, 'handbook.md')).toEqual([]);
	});

	it('/dir/* owns the directory’s own files but not those of its subdirectories', () => {
		const text = '/handbook/* @top-level';
		expect(owners(text, 'handbook/index.md')).toEqual(['@top-level']);
		expect(owners(text, 'handbook/teams/index.md')).toEqual([]);
	});

	it('/dir/**/*.md reaches markdown files at any depth below the directory, and directly in it', () => {
		const text = '/handbook/**/*.md @markdown';
		expect(owners(text, 'handbook/index.md')).toEqual(['@markdown']);
		expect(owners(text, 'handbook/teams/qa/index.md')).toEqual(['@markdown']);
		expect(owners(text, 'handbook/teams/logo.png')).toEqual([]);
	});

	it('a directory without a leading / matches wherever it is nested', () => {
		const text = 'vendor/ @vendoring';
		expect(owners(text, 'vendor/x.js')).toEqual(['@vendoring']);
		expect(owners(text, 'packages/web/vendor/lib/x.js')).toEqual(['@vendoring']);
		expect(owners(text, 'packages/vendors/x.js')).toEqual([]);
	});

	it('a leading / anchors a directory to the root only', () => {
		const text = '/settings/ @ops';
		expect(owners(text, 'settings/prod.yml')).toEqual(['@ops']);
		expect(owners(text, 'app/settings/prod.yml')).toEqual([]);
	});

	it('a bare file name matches that name in any directory, like .gitignore', () => {
		const text = 'Makefile @build';
		expect(owners(text, 'Makefile')).toEqual(['@build']);
		expect(owners(text, 'tools/native/Makefile')).toEqual(['@build']);
		expect(owners(text, 'tools/Makefile.am')).toEqual([]);
	});

	it('a relative path with a slash is matched at any depth, and a plain name covers the directory it names', () => {
		const text = 'ee/handbook @ee-writers';
		expect(owners(text, 'ee/handbook/index.md')).toEqual(['@ee-writers']);
		expect(owners(text, 'nested/ee/handbook/a/b.md')).toEqual(['@ee-writers']);
		expect(owners(text, 'ee/handbook-old/index.md')).toEqual([]);
	});

	it('escaped spaces belong to the pattern', () => {
		const text = 'end\\ to\\ end/ @e2e-team';
		expect(owners(text, 'end to end/login.spec.ts')).toEqual(['@e2e-team']);
		expect(owners(text, 'end/login.spec.ts')).toEqual([]);
	});

	it('lines starting with # are comments, and \\# addresses a file whose name starts with #', () => {
		const text = ['# tests/ @nobody', '\\#notes.md @hash-owner', '  # indented comment @nobody'].join('\n');
		expect(owners(text, 'tests/a.spec.ts')).toEqual([]);
		expect(owners(text, '#notes.md')).toEqual(['@hash-owner']);
		expect(owners(text, 'docs/#notes.md')).toEqual(['@hash-owner']);
	});

	it('* matches within one directory level, ** across levels, ? and [] one character', () => {
		const text = ['/tests/*.spec.ts @flat', '/deep/**/x.ts @deep', '/q/file?.ts @question', '/c/[ab].ts @class'].join('\n');
		expect(owners(text, 'tests/a.spec.ts')).toEqual(['@flat']);
		expect(owners(text, 'tests/sub/a.spec.ts')).toEqual([]);
		expect(owners(text, 'deep/x.ts')).toEqual(['@deep']);
		expect(owners(text, 'deep/1/2/3/x.ts')).toEqual(['@deep']);
		expect(owners(text, 'q/file1.ts')).toEqual(['@question']);
		expect(owners(text, 'q/file12.ts')).toEqual([]);
		expect(owners(text, 'c/b.ts')).toEqual(['@class']);
		expect(owners(text, 'c/d.ts')).toEqual([]);
	});

	it('braces are literal, as in GitLab’s fnmatch', () => {
		expect(owners('/{a,b}.ts @brace', 'a.ts')).toEqual([]);
		expect(owners('/{a,b}.ts @brace', '{a,b}.ts')).toEqual(['@brace']);
	});

	it('turns patterns into globs as documented', () => {
		expect(patternGlobs('*')).toEqual(['/**/*']);
		expect(patternGlobs('/docs/')).toEqual(['/docs/**']);
		expect(patternGlobs('/docs/*')).toEqual(['/docs/*']);
		expect(patternGlobs('lib')).toEqual(['/**/lib', '/**/lib/**']);
	});
});

describe('CODEOWNERS owners', () => {
	it('takes several owners separated by spaces or tabs; users, nested groups and e-mail addresses', () => {
		const text = 'README.md @docs-team\t@org/sub/group   jane.doe@example.com';
		expect(owners(text, 'README.md')).toEqual(['@docs-team', '@org/sub/group', 'jane.doe@example.com']);
	});

	it('ignores words that are neither @names nor e-mail addresses', () => {
		expect(ownerWords('  @legal this is not an owner ops@example.org @ ')).toEqual(['@legal', 'ops@example.org']);
		expect(owners('LICENSE @legal but not this', 'LICENSE')).toEqual(['@legal']);
	});

	it('an entry without owners outside any section matches and leaves the file unowned', () => {
		const text = ['* @everyone', '/generated/'].join('\n');
		expect(owners(text, 'generated/api.ts')).toEqual([]);
		expect(owners(text, 'src/api.ts')).toEqual(['@everyone']);
	});

	it('a file nothing matches has no owner; an empty file owns nothing', () => {
		expect(owners('/src/ @dev', 'tests/a.spec.ts')).toEqual([]);
		expect(owners('', 'anything.ts')).toEqual([]);
	});

	it('reads CRLF files and a byte order mark', () => {
		expect(owners('\uFEFF* @bom\r\n/tests/ @qa\r\n', 'tests/a.ts')).toEqual(['@qa']);
		expect(owners('\uFEFF* @bom\r\n', 'x.ts')).toEqual(['@bom']);
	});
});

describe('CODEOWNERS sections', () => {
	const file = [
		'# owners outside any section',
		'* @maintainers',
		'',
		'[Frontend]',
		'/web/ @frontend',
		'/web/checkout/ @payments-ui',
		'',
		'^[Docs] @tech-writers',
		'*.md',
		'/web/README.md @web-docs',
		'',
		'[QA][2] @qa-leads @qa-team',
		'/tests/',
		'/tests/checkout/ @checkout-qa'
	].join('\n');
	const parsed = parseCodeowners(file);

	it('reads headings: name, optional ^, approvals, default owners', () => {
		expect(parsed.sections.map(({ name, optional, approvals, defaultOwners }) => ({ name, optional, approvals, defaultOwners }))).toEqual([
			{ name: '', optional: false, approvals: 1, defaultOwners: [] },
			{ name: 'Frontend', optional: false, approvals: 1, defaultOwners: [] },
			{ name: 'Docs', optional: true, approvals: 1, defaultOwners: ['@tech-writers'] },
			{ name: 'QA', optional: false, approvals: 2, defaultOwners: ['@qa-leads', '@qa-team'] }
		]);
	});

	it('every section applies: owners are the union of each section’s last match', () => {
		expect(ownersOf(parsed, 'web/checkout/cart.ts')).toEqual(['@maintainers', '@payments-ui']);
		expect(ownersOf(parsed, 'web/README.md')).toEqual(['@maintainers', '@frontend', '@web-docs']);
		expect(ownersOf(parsed, 'server/main.go')).toEqual(['@maintainers']);
	});

	it('entries that name no owner take their section’s default owners', () => {
		expect(ownersOf(parsed, 'CHANGELOG.md')).toEqual(['@maintainers', '@tech-writers']);
		expect(ownersOf(parsed, 'tests/login.spec.ts')).toEqual(['@maintainers', '@qa-leads', '@qa-team']);
		expect(ownersOf(parsed, 'tests/checkout/pay.spec.ts')).toEqual(['@maintainers', '@checkout-qa']);
	});

	it('sections of the same name, in any case, are one section: its last match wins across both parts', () => {
		const text = ['[Backend]', '*.go @go-team', '[Frontend]', '*.ts @ts-team', '[backend]', '/cmd/ @cli-team'].join('\n');
		const p = parseCodeowners(text);
		expect(p.sections.map((s) => s.name)).toEqual(['Backend', 'Frontend']);
		expect(ownersOf(p, 'cmd/main.go')).toEqual(['@cli-team']);
		expect(ownersOf(p, 'pkg/main.go')).toEqual(['@go-team']);
	});

	it('a repeated heading’s default owners apply to the entries under it', () => {
		const text = ['[Docs] @first', '/a/', '[docs] @second', '/b/'].join('\n');
		expect(owners(text, 'a/x.md')).toEqual(['@first']);
		expect(owners(text, 'b/x.md')).toEqual(['@second']);
	});

	it('an exclusion takes matching files out of its section only, even if a later entry matches', () => {
		const text = ['* @everyone', '!package-lock.json', '[Security]', '* @security', '!/docs/', '/docs/secrets.md @security-docs'].join('\n');
		expect(owners(text, 'package-lock.json')).toEqual(['@security']);
		expect(owners(text, 'docs/secrets.md')).toEqual(['@everyone']);
		expect(owners(text, 'src/app.ts')).toEqual(['@everyone', '@security']);
	});

	it('skips a heading without a name', () => {
		const text = ['[] @nobody', '* @everyone'].join('\n');
		expect(owners(text, 'x.ts')).toEqual(['@everyone']);
	});
});

describe('finding CODEOWNERS', () => {
	const dirs: string[] = [];
	afterEach(() => {
		for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
	});
	function repo(files: Record<string, string>): string {
		const root = mkdtempSync(path.join(tmpdir(), 'codeowners-'));
		dirs.push(root);
		for (const [name, text] of Object.entries(files)) {
			mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
			writeFileSync(path.join(root, name), text);
		}
		return root;
	}

	it('reads the first of CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS, only that one', () => {
		const all = repo({ CODEOWNERS: '* @root', 'docs/CODEOWNERS': '* @docs', '.gitlab/CODEOWNERS': '* @gitlab' });
		expect(ownersOf(loadCodeowners(all)!.codeowners, 'x')).toEqual(['@root']);
		const two = repo({ 'docs/CODEOWNERS': '* @docs', '.gitlab/CODEOWNERS': '* @gitlab' });
		expect(loadCodeowners(two)!.file).toBe(path.join(two, 'docs/CODEOWNERS'));
		const one = repo({ '.gitlab/CODEOWNERS': '* @gitlab' });
		expect(ownersOf(loadCodeowners(one)!.codeowners, 'x')).toEqual(['@gitlab']);
		expect(loadCodeowners(repo({ 'src/CODEOWNERS': '* @nested' }))).toBeUndefined();
	});

	it('skips a directory named CODEOWNERS', () => {
		const root = repo({ 'CODEOWNERS/readme': 'not the file', 'docs/CODEOWNERS': '* @docs' });
		expect(loadCodeowners(root)!.file).toBe(path.join(root, 'docs/CODEOWNERS'));
	});

	it('resolves absolute test files against the root, once each; files outside it have no owner', () => {
		const root = repo({ CODEOWNERS: '*.ts @ts\n/e2e/ @qa' });
		const files = new FileOwners(loadCodeowners(root)!);
		expect(files.of(path.join(root, 'e2e', 'login.spec.ts'))).toEqual(['@qa']);
		expect(files.of(path.join(root, 'src', 'a.ts'))).toEqual(['@ts']);
		expect(files.of(path.join(path.dirname(root), 'elsewhere.ts'))).toEqual([]);
	});

	it('the root is CI_PROJECT_DIR when set, else the top of the git working copy', () => {
		const calls: string[][] = [];
		const git = (args: string[], cwd: string) => {
			calls.push([...args, cwd]);
			return '/repo/top\n';
		};
		expect(repositoryRoot('/repo/top/e2e', { CI_PROJECT_DIR: '/builds/group/app' }, git)).toBe('/builds/group/app');
		expect(calls).toEqual([]);
		expect(repositoryRoot('/repo/top/e2e', {}, git)).toBe('/repo/top');
		expect(calls).toEqual([['rev-parse', '--show-toplevel', '/repo/top/e2e']]);
		expect(repositoryRoot('/tmp/x', {}, () => undefined)).toBeUndefined();
		// A relative CI_PROJECT_DIR is not GitLab's: the working copy decides.
		expect(repositoryRoot('/repo/top/e2e', { CI_PROJECT_DIR: 'relative' }, git)).toBe('/repo/top');
	});
});
