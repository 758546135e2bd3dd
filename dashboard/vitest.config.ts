import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	resolve: {
		alias: {
			$lib: fileURLToPath(new URL('./src/lib', import.meta.url)),
			// What SvelteKit's dynamic private env is under adapter-node: the process's environment.
			'$env/dynamic/private': fileURLToPath(new URL('./test/env.ts', import.meta.url))
		}
	},
	test: {
		name: 'dashboard',
		include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
		testTimeout: 90_000,
		hookTimeout: 240_000,
		pool: 'forks',
		// Browser steps wait for the server (sign-in hashes a password); a loaded CI machine is slow.
		expect: { poll: { timeout: 20_000, interval: 100 } }
	}
});
