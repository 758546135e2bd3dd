import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		// Two files at a time: most of the suite waits on real servers, browsers and PostgreSQL rather
		// than the CPU, and vitest's default on a 2-core machine (cores - 1) runs the files one by one.
		maxWorkers: 2,
		projects: ['reporter', 'server', 'dashboard', 'mcp']
	}
});
