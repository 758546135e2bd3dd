-- A test skipped in every run gets the verdict "skipped": nothing to judge, so no failure chance
-- (NULL score, interval and failed-run share), never "healthy" with the prior's 5%. NULL scores sort
-- after every real one.
ALTER TYPE "health_state" ADD VALUE IF NOT EXISTS 'skipped';

ALTER TABLE "test_health" ALTER COLUMN "score" DROP NOT NULL;
ALTER TABLE "test_health" ALTER COLUMN "score_low" DROP NOT NULL;
ALTER TABLE "test_health" ALTER COLUMN "score_high" DROP NOT NULL;
ALTER TABLE "test_health" ALTER COLUMN "flake_rate" DROP NOT NULL;
