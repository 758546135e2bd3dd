import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** SQL statements written as string or template literals, keywords upper case as everywhere here (checked where SQL must not be). */
const SQL = String.raw`/^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS|CREATE\s|ALTER\s|DROP\s|TRUNCATE\s|COPY\s)/`;
const noSqlHere = (where) => [
	'error',
	{ selector: `Literal[value=${SQL}]`, message: `SQL belongs in server/src/repositories, not in ${where}.` },
	{ selector: `TemplateLiteral > TemplateElement:first-child[value.raw=${SQL}]`, message: `SQL belongs in server/src/repositories, not in ${where}.` }
];

export default tseslint.config(
	{
		ignores: [
			'**/node_modules/**',
			'**/dist/**',
			'**/build/**',
			'**/.svelte-kit/**',
			'server/src/generated/**',
			'**/test-results/**',
			'**/playwright-report/**'
		]
	},
	js.configs.recommended,
	...tseslint.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.node } },
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'@typescript-eslint/no-non-null-assertion': 'off'
		}
	},
	{
		files: ['dashboard/**/*.svelte', 'dashboard/**/*.svelte.ts'],
		languageOptions: {
			globals: { ...globals.browser },
			parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }
		},
		rules: {
			// Links are written as plain hrefs (the dashboard has no base path); resolve() adds nothing here.
			'svelte/no-navigation-without-resolve': 'off',
			// {' failed,'} keeps a leading space that Svelte would trim from plain text at a tag's start.
			'svelte/no-useless-mustaches': 'off'
		}
	},
	{
		// Playwright's fixture syntax asks for `async ({}, testInfo) => …` when no fixture is used.
		files: ['**/*.spec.ts'],
		rules: { 'no-empty-pattern': 'off' }
	},

	// The architecture, enforced (issue 15 §6): which part may import which, and no import circles.
	{
		files: ['reporter/**/*.ts', 'server/**/*.ts', 'dashboard/**/*.ts', 'dashboard/**/*.svelte', 'mcp/**/*.ts'],
		plugins: { 'import-x': importX },
		settings: {
			'import-x/extensions': ['.ts', '.js', '.svelte'],
			'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.js'], 'svelte-eslint-parser': ['.svelte'] },
			'import-x/resolver-next': [
				createTypeScriptImportResolver({
					noWarnOnMultipleProjects: true,
					project: ['reporter/tsconfig.json', 'server/tsconfig.json', 'dashboard/tsconfig.json', 'mcp/tsconfig.json'],
					extensions: ['.ts', '.js', '.svelte', '.d.ts']
				})
			]
		},
		rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] }
	},
	{
		// Source only: tests may start the real server and use its test helpers.
		files: ['reporter/src/**/*.ts', 'server/src/**/*.ts', 'dashboard/src/**/*.ts', 'dashboard/src/**/*.svelte', 'mcp/src/**/*.ts'],
		ignores: ['**/*.test.ts'],
		plugins: { 'import-x': importX },
		rules: {
			'import-x/no-restricted-paths': [
				'error',
				{
					zones: [
						{
							target: './reporter',
							from: ['./server', './dashboard', './mcp', './prisma'],
							message: 'The reporter is published alone: it never imports the server, the dashboard or the MCP package.'
						},
						{
							target: './dashboard',
							from: ['./server', './prisma', './mcp'],
							message: 'The dashboard talks to the server over HTTP only: no server code, no Prisma.'
						},
						{
							target: './mcp',
							from: ['./server', './dashboard', './prisma'],
							message: 'The MCP package talks to the server over HTTP only.'
						},
						{
							target: './server/src/analysis',
							from: [
								'./server/src/routes',
								'./server/src/jobs',
								'./server/src/repositories',
								'./server/src/plugins',
								'./server/src/db',
								'./server/src/ingest',
								'./server/src/integrations'
							],
							message: 'The analysis engine is pure: no routes, jobs, repositories, database or HTTP.'
						},
						{
							target: './server/src/repositories',
							from: ['./server/src/routes', './server/src/jobs', './server/src/plugins', './server/src/integrations'],
							message: 'Layering runs one way: repositories never import routes, jobs, plugins or integrations.'
						}
					]
				}
			]
		}
	},
	{
		files: ['dashboard/src/**/*.ts', 'dashboard/src/**/*.svelte'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['@prisma/*', 'prisma', 'pg', '@electric-sql/*', '@flackyness/server', '@flackyness/server/*'], message: 'The dashboard never touches the database or server code.' }
					]
				}
			]
		}
	},
	{
		files: ['server/src/routes/**/*.ts'],
		rules: { 'no-restricted-syntax': noSqlHere('routes') }
	}
);
