// Runs the Prisma CLI without its downloadable schema engine (see no-schema-engine.sh).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL('./no-schema-engine.sh', import.meta.url));
env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';
const res = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
	stdio: 'inherit',
	env,
	cwd: fileURLToPath(new URL('..', import.meta.url))
});
process.exit(res.status ?? 1);
