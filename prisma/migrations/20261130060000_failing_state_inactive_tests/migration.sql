-- Issue 14 §1: `failing` — fails on feature branch(es), never seen failing on the default branch.
-- Issue 14 §2: a test absent from the last N complete default-branch pipelines is inactive.

ALTER TYPE "health_state" ADD VALUE IF NOT EXISTS 'failing' AFTER 'suspect';

-- When the test stopped appearing (the first complete default-branch pipeline without it); NULL: active.
ALTER TABLE "test_health" ADD COLUMN "inactive_since" TIMESTAMPTZ(6);
