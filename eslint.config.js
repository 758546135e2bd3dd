import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{
		ignores: [
			'**/node_modules/**',
			'**/dist/**',
			'**/build/**',
			'**/.svelte-kit/**',
			'server/src/generated/**',
			'**/test-results/**',
			'**/playwright-report/**',
			'dashboard/**/*.svelte'
		]
	},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		languageOptions: { globals: { ...globals.node } },
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'@typescript-eslint/no-non-null-assertion': 'off'
		}
	},
	{
		// Playwright's fixture syntax asks for `async ({}, testInfo) => …` when no fixture is used.
		files: ['**/*.spec.ts'],
		rules: { 'no-empty-pattern': 'off' }
	}
);
