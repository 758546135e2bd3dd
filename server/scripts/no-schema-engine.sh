#!/bin/sh
# Stand-in for Prisma's schema-engine binary, which cannot be downloaded on machines that reach only
# the npm registry. `prisma generate` and `prisma studio` merely check that a binary is present;
# migrations are applied by the server itself (src/db/migrate.ts).
echo "Prisma's schema engine is not installed here: the Flackyness server applies migrations at boot." >&2
exit 1
