import { defineConfig } from '@playwright/test';

export default defineConfig({
	testDir: 'tests',
	fullyParallel: true,
	// Retries are what reveal a flaky test: it fails, then passes on a retry.
	retries: 2,
	// Flackyness: keep your terminal reporter and add this one. FLACKYNESS_URL and FLACKYNESS_TOKEN
	// come from the environment (GitLab CI/CD variables).
	reporter: [['list'], ['flackyness-reporter']]
});
