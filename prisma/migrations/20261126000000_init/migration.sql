-- CreateEnum
CREATE TYPE "user_role" AS ENUM ('admin', 'viewer');

-- CreateEnum
CREATE TYPE "run_source" AS ENUM ('reporter', 'json_upload');

-- CreateEnum
CREATE TYPE "run_status" AS ENUM ('running', 'passed', 'failed', 'timedout', 'interrupted', 'incomplete');

-- CreateEnum
CREATE TYPE "outcome" AS ENUM ('expected', 'unexpected', 'flaky', 'skipped');

-- CreateEnum
CREATE TYPE "health_state" AS ENUM ('healthy', 'flaky', 'broken', 'suspect', 'fixed', 'quarantined');

-- CreateTable
CREATE TABLE "projects" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "slug" VARCHAR(100) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "is_demo" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID,
    "label" VARCHAR(200) NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "prefix" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "idempotency_key" VARCHAR(512) NOT NULL,
    "group_key" VARCHAR(512),
    "source" "run_source" NOT NULL,
    "status" "run_status" NOT NULL DEFAULT 'running',
    "ci_provider" VARCHAR(32),
    "branch" VARCHAR(255),
    "is_default_branch" BOOLEAN,
    "commit_sha" VARCHAR(64),
    "commit_title" VARCHAR(1000),
    "commit_author" VARCHAR(500),
    "commit_timestamp" TIMESTAMPTZ(6),
    "pipeline_id" VARCHAR(64),
    "pipeline_iid" VARCHAR(64),
    "pipeline_url" VARCHAR(2048),
    "pipeline_source" VARCHAR(64),
    "job_id" VARCHAR(64),
    "job_name" VARCHAR(255),
    "job_url" VARCHAR(2048),
    "mr_iid" INTEGER,
    "mr_source_branch" VARCHAR(255),
    "mr_target_branch" VARCHAR(255),
    "shard_index" INTEGER,
    "shard_total" INTEGER,
    "playwright_version" VARCHAR(32),
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(6),
    "duration_ms" INTEGER,
    "last_activity_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "total" INTEGER NOT NULL DEFAULT 0,
    "expected" INTEGER NOT NULL DEFAULT 0,
    "unexpected" INTEGER NOT NULL DEFAULT 0,
    "flaky" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "infra_failure" BOOLEAN NOT NULL DEFAULT false,
    "infra_reason" VARCHAR(500),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tests" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "key" CHAR(64) NOT NULL,
    "file" VARCHAR(1024) NOT NULL,
    "title_path" TEXT[],
    "title" VARCHAR(2048) NOT NULL,
    "project_name" VARCHAR(255) NOT NULL DEFAULT '',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "test_results" (
    "id" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "test_id" UUID NOT NULL,
    "outcome" "outcome" NOT NULL,
    "expected_status" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "attempts" SMALLINT NOT NULL DEFAULT 1,
    "failed_attempts" SMALLINT NOT NULL DEFAULT 0,
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "error_message" TEXT,
    "error_stack" TEXT,
    "error_location" VARCHAR(1024),
    "error_fingerprint" CHAR(16),
    "annotations" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "test_results_pkey" PRIMARY KEY ("id","started_at")
) PARTITION BY RANGE ("started_at");

-- Rows outside every monthly partition (old reports, clocks far off) land here; the server
-- creates monthly partitions ahead of time (server/src/db/partitions.ts).
CREATE TABLE "test_results_default" PARTITION OF "test_results" DEFAULT;

-- CreateTable
CREATE TABLE "error_clusters" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "fingerprint" CHAR(16) NOT NULL,
    "message" TEXT NOT NULL,
    "occurrences" INTEGER NOT NULL DEFAULT 0,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "error_clusters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "test_health" (
    "test_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "state" "health_state" NOT NULL DEFAULT 'healthy',
    "state_since" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "score" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "score_low" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "score_high" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "flake_rate" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "flaky_runs" INTEGER NOT NULL DEFAULT 0,
    "mixed_commits" INTEGER NOT NULL DEFAULT 0,
    "impact_minutes" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "first_detected_at" TIMESTAMPTZ(6),
    "last_flaky_at" TIMESTAMPTZ(6),
    "last_seen_at" TIMESTAMPTZ(6),
    "change_point_sha" VARCHAR(64),
    "change_point_at" TIMESTAMPTZ(6),
    "evidence" JSONB NOT NULL DEFAULT '{}',
    "analyzed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "test_health_pkey" PRIMARY KEY ("test_id")
);

-- CreateTable
CREATE TABLE "quarantines" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "project_id" UUID NOT NULL,
    "test_id" UUID NOT NULL,
    "reason" VARCHAR(1000) NOT NULL,
    "created_by" VARCHAR(320) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6),
    "released_at" TIMESTAMPTZ(6),
    "released_by" VARCHAR(320),

    CONSTRAINT "quarantines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" VARCHAR(320) NOT NULL,
    "password_hash" VARCHAR(255) NOT NULL,
    "role" "user_role" NOT NULL DEFAULT 'viewer',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,
    "last_login_at" TIMESTAMPTZ(6),

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analysis_jobs" (
    "id" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "run_id" UUID,
    "test_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "enqueued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "locked_at" TIMESTAMPTZ(6),
    "last_error" TEXT,

    CONSTRAINT "analysis_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "projects_slug_key" ON "projects"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_project_id_idx" ON "api_tokens"("project_id");

-- CreateIndex
CREATE INDEX "runs_project_id_started_at_idx" ON "runs"("project_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "runs_project_id_branch_started_at_idx" ON "runs"("project_id", "branch", "started_at" DESC);

-- CreateIndex
CREATE INDEX "runs_project_id_commit_sha_idx" ON "runs"("project_id", "commit_sha");

-- CreateIndex
CREATE INDEX "runs_project_id_group_key_idx" ON "runs"("project_id", "group_key");

-- CreateIndex
CREATE INDEX "runs_status_last_activity_at_idx" ON "runs"("status", "last_activity_at");

-- CreateIndex
CREATE UNIQUE INDEX "runs_project_id_idempotency_key_key" ON "runs"("project_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "tests_project_id_file_idx" ON "tests"("project_id", "file");

-- CreateIndex
CREATE UNIQUE INDEX "tests_project_id_key_key" ON "tests"("project_id", "key");

-- CreateIndex
CREATE INDEX "test_results_test_id_started_at_idx" ON "test_results"("test_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "test_results_project_id_started_at_idx" ON "test_results"("project_id", "started_at");

-- CreateIndex
CREATE INDEX "test_results_project_id_error_fingerprint_started_at_idx" ON "test_results"("project_id", "error_fingerprint", "started_at");

-- CreateIndex
CREATE INDEX "test_results_started_at_idx" ON "test_results" USING BRIN ("started_at" timestamptz_minmax_ops);

-- CreateIndex
CREATE UNIQUE INDEX "test_results_run_id_test_id_started_at_key" ON "test_results"("run_id", "test_id", "started_at");

-- CreateIndex
CREATE INDEX "error_clusters_project_id_occurrences_idx" ON "error_clusters"("project_id", "occurrences" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "error_clusters_project_id_fingerprint_key" ON "error_clusters"("project_id", "fingerprint");

-- CreateIndex
CREATE INDEX "test_health_project_id_state_idx" ON "test_health"("project_id", "state");

-- CreateIndex
CREATE INDEX "test_health_project_id_impact_minutes_idx" ON "test_health"("project_id", "impact_minutes" DESC);

-- CreateIndex
CREATE INDEX "test_health_project_id_score_idx" ON "test_health"("project_id", "score" DESC);

-- CreateIndex
CREATE INDEX "test_health_project_id_last_flaky_at_idx" ON "test_health"("project_id", "last_flaky_at" DESC);

-- CreateIndex
CREATE INDEX "quarantines_project_id_released_at_idx" ON "quarantines"("project_id", "released_at");

-- CreateIndex
CREATE INDEX "quarantines_test_id_idx" ON "quarantines"("test_id");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE INDEX "analysis_jobs_enqueued_at_idx" ON "analysis_jobs"("enqueued_at");

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runs" ADD CONSTRAINT "runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tests" ADD CONSTRAINT "tests_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "error_clusters" ADD CONSTRAINT "error_clusters_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_health" ADD CONSTRAINT "test_health_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "test_health" ADD CONSTRAINT "test_health_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quarantines" ADD CONSTRAINT "quarantines_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
