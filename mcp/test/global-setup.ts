import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tests spawn what users run, `dist/cli.js`: build it once before them. */
export default function setup(): void {
	const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
	const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
	execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
