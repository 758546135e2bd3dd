import { defineConfig } from 'prisma/config';

// Prisma's schema engine cannot be downloaded here or on air-gapped machines, so migrations are
// written as SQL and applied by the server at boot; this config serves `prisma generate`
// and `prisma studio`.
export default defineConfig({
	schema: '../prisma/schema.prisma',
	migrations: { path: '../prisma/migrations' },
	datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/flackyness' }
});
