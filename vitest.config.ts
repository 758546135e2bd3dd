import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		projects: ['reporter', 'server', 'dashboard']
	}
});
