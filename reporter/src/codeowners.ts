/**
 * GitLab's CODEOWNERS: where the file lies, how it reads, and who owns a path. Only the owners'
 * names ever leave the machine, never the file.
 *
 * What GitLab documents, and this follows:
 * - one file, the first found of `CODEOWNERS`, `docs/CODEOWNERS`, `.gitlab/CODEOWNERS` at the
 *   repository's root;
 * - `#` starts a comment; `\#` starts a pattern with `#`; `\ ` is a space inside a pattern;
 * - sections: `[Name]`, optional `^[Name]`, `[Name][2]` (approvals), default owners after the
 *   heading (`[Name] @team`) for the section's entries that name none; section names ignore case
 *   and sections of the same name are one section; entries before any heading form their own;
 * - owners are `@user`, `@group/subgroup` and e-mail addresses; any other word is ignored;
 * - within a section the last matching entry wins, and every section applies: a path's owners are
 *   the union of each section's last match;
 * - `!pattern` (GitLab 17.10) takes the paths it matches out of its section, whatever comes after;
 * - patterns as in .gitignore: a leading `/` anchors to the root, a trailing `/` names a directory
 *   (everything under it, at any depth), `*` stays within a directory, `**` crosses them, and a
 *   pattern without a leading `/` matches at any depth. A pattern naming a directory without the
 *   trailing `/` (`ee/docs`) covers what is under it too, as in .gitignore; one whose last part
 *   has a wildcard does not (`/docs/*` owns `docs/a.md`, not `docs/a/b.md`, as GitLab documents).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { minimatch, type MinimatchOptions } from 'minimatch';
import { runGit, type GitRunner } from './git.js';

/** Where GitLab looks, in the order it looks: the first one found is the only one read. */
export const CODEOWNERS_LOCATIONS = ['CODEOWNERS', 'docs/CODEOWNERS', '.gitlab/CODEOWNERS'] as const;

/** A CODEOWNERS larger than this is not read: no real one comes near it, and it is read at every run's start. */
export const MAX_CODEOWNERS_BYTES = 4 * 1024 * 1024;

export interface CodeownersEntry {
	/** The pattern as written, unescaped (`!` of an exclusion removed). */
	pattern: string;
	/** Its owners, or the section's default owners when the line names none. */
	owners: string[];
	/** `!pattern`: matching paths have no owner in this section. */
	exclusion: boolean;
	matches(file: string): boolean;
}

export interface CodeownersSection {
	/** As first written; '' for the entries before any heading. */
	name: string;
	/** `^[Name]`. */
	optional: boolean;
	/** `[Name][2]`; 1 when not given. */
	approvals: number;
	/** Owners named on the (first) heading. */
	defaultOwners: string[];
	entries: CodeownersEntry[];
}

export interface Codeowners {
	sections: CodeownersSection[];
}

// Ruby's File.fnmatch with FNM_PATHNAME | FNM_DOTMATCH, which GitLab uses: no braces, no extglobs,
// and `*` matches names that start with a dot.
const GLOB: MinimatchOptions = { dot: true, nobrace: true, noext: true, nocomment: true, nonegate: true };

const HEADING = /^(\^)?\[([^\]]*)\](?:\[(\d*)\])?(.*)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The owner words of a line's rest: `@name` and e-mail addresses; anything else is ignored, as GitLab does. */
export function ownerWords(rest: string): string[] {
	const owners: string[] = [];
	for (const word of rest.split(/\s+/)) {
		if (word === '' || owners.includes(word)) continue;
		if ((word.startsWith('@') && word.length > 1) || EMAIL.test(word)) owners.push(word);
	}
	return owners;
}

/** Splits an entry line into its pattern (escapes resolved) and what follows it. */
function splitEntry(line: string): { pattern: string; rest: string } {
	let pattern = '';
	let i = 0;
	for (; i < line.length; i++) {
		const c = line[i]!;
		if (c === '\\' && i + 1 < line.length && /\s/.test(line[i + 1]!)) {
			pattern += line[++i];
			continue;
		}
		if (/\s/.test(c)) break;
		pattern += c;
	}
	// `\#` keeps a leading `#` from making a comment; elsewhere `\#` is left to the glob (an escaped `#`).
	if (pattern.startsWith('\\#')) pattern = pattern.slice(1);
	return { pattern, rest: line.slice(i) };
}

/** The globs a pattern stands for, against a path written `/dir/file` (leading slash, forward slashes). */
export function patternGlobs(pattern: string): string[] {
	const glob = pattern.startsWith('/') ? pattern : `/**/${pattern}`;
	if (glob.endsWith('/')) return [`${glob}**`];
	// A plain name may be a directory, which covers everything under it (as in .gitignore). One
	// ending in a wildcard may not: GitLab documents `/docs/*` as not reaching `docs/projects/index.md`.
	const last = glob.slice(glob.lastIndexOf('/') + 1);
	return /[*?[]/.test(last) ? [glob] : [glob, `${glob}/**`];
}

function compile(pattern: string): (file: string) => boolean {
	const matchers = patternGlobs(pattern).map((glob) => new minimatch.Minimatch(glob, GLOB));
	return (file) => matchers.some((m) => m.match(file));
}

/** Reads a CODEOWNERS file's text. Never throws: lines it cannot read are skipped, as GitLab skips them. */
export function parseCodeowners(text: string): Codeowners {
	const sections: CodeownersSection[] = [];
	const byName = new Map<string, CodeownersSection>();
	const sectionNamed = (name: string, heading?: { optional: boolean; approvals: number; defaultOwners: string[] }) => {
		const key = name.toLowerCase();
		let section = byName.get(key);
		if (!section) {
			section = { name, optional: heading?.optional ?? false, approvals: heading?.approvals ?? 1, defaultOwners: heading?.defaultOwners ?? [], entries: [] };
			byName.set(key, section);
			sections.push(section);
		}
		return section;
	};
	let current: CodeownersSection | undefined;
	// Default owners apply to the entries under the heading that names them (a repeated heading may name others).
	let defaults: string[] = [];

	for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) continue;
		const heading = HEADING.exec(line);
		if (heading) {
			const name = heading[2]!.trim();
			if (name === '') continue;
			defaults = ownerWords(heading[4] ?? '');
			const approvals = heading[3] ? Math.max(1, Number(heading[3])) : 1;
			current = sectionNamed(name, { optional: heading[1] === '^', approvals, defaultOwners: defaults });
			continue;
		}
		const { pattern: written, rest } = splitEntry(line);
		const exclusion = written.startsWith('!');
		const pattern = exclusion ? written.slice(1) : written;
		if (pattern === '') continue;
		const named = ownerWords(rest);
		const section = current ?? sectionNamed('');
		section.entries.push({ pattern, owners: exclusion ? [] : named.length > 0 ? named : defaults, exclusion, matches: compile(pattern) });
	}
	return { sections };
}

/**
 * Owners of `file` (relative to the repository's root, forward slashes): in each section the last
 * entry that matches, unless an exclusion of that section matches; the union over sections, in
 * the order they first appear.
 */
export function ownersOf(codeowners: Codeowners, file: string): string[] {
	const target = `/${file.replace(/\\/g, '/').replace(/^\/+/, '')}`;
	const owners: string[] = [];
	for (const section of codeowners.sections) {
		let last: CodeownersEntry | undefined;
		let excluded = false;
		for (const entry of section.entries) {
			if (!entry.matches(target)) continue;
			if (entry.exclusion) excluded = true;
			else last = entry;
		}
		if (excluded || !last) continue;
		for (const owner of last.owners) if (!owners.includes(owner)) owners.push(owner);
	}
	return owners;
}

/**
 * The repository's root: CI_PROJECT_DIR when set (GitLab's checkout), else the top of the git
 * working copy that holds `configDir`; undefined when neither is known.
 */
export function repositoryRoot(configDir: string, env: NodeJS.ProcessEnv, git: GitRunner = runGit): string | undefined {
	const ci = env.CI_PROJECT_DIR;
	if (ci && path.isAbsolute(ci)) return ci;
	const top = git(['rev-parse', '--show-toplevel'], configDir)?.trim();
	return top ? path.resolve(top) : undefined;
}

export interface LoadedCodeowners {
	/** The file read, absolute. */
	file: string;
	/** The repository's root the file's patterns are relative to. */
	root: string;
	codeowners: Codeowners;
}

/** The first CODEOWNERS found under `root`, in GitLab's order, parsed; undefined when there is none or it can't be read. */
export function loadCodeowners(root: string): LoadedCodeowners | undefined {
	for (const location of CODEOWNERS_LOCATIONS) {
		const file = path.join(root, location);
		try {
			const stat = statSync(file);
			if (!stat.isFile()) continue;
			if (stat.size > MAX_CODEOWNERS_BYTES) return undefined;
			return { file, root, codeowners: parseCodeowners(readFileSync(file, 'utf8')) };
		} catch {
			continue;
		}
	}
	return undefined;
}

/**
 * Owners of files by absolute path, from one CODEOWNERS read once. A file outside the repository
 * has none; each file is resolved once, however many tests it holds.
 */
export class FileOwners {
	private readonly cache = new Map<string, string[]>();

	constructor(private readonly loaded: LoadedCodeowners) {}

	of(absoluteFile: string): string[] {
		let owners = this.cache.get(absoluteFile);
		if (!owners) {
			const relative = path.relative(this.loaded.root, absoluteFile).split(path.sep).join('/');
			owners = relative === '' || relative.startsWith('../') || path.isAbsolute(relative) ? [] : ownersOf(this.loaded.codeowners, relative);
			this.cache.set(absoluteFile, owners);
		}
		return owners;
	}
}
