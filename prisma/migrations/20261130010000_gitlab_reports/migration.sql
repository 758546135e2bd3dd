-- Verdicts written back to GitLab: the GitLab project each run came from, a durable queue of
-- per-pipeline reports (MR note and commit status), and the note kept per merge request.

-- CI_PROJECT_PATH ("group/app") of the run, as the reporter or the upload sent it.
ALTER TABLE "runs" ADD COLUMN "project_path" VARCHAR(255);

-- A pipeline's runs, looked up when deciding whether it is complete.
CREATE INDEX "runs_project_id_pipeline_id_idx" ON "runs"("project_id", "pipeline_id");

-- One row per pipeline to report on; workers claim due rows with SKIP LOCKED.
CREATE TABLE "gitlab_jobs" (
    "id" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "pipeline_id" VARCHAR(64) NOT NULL,
    "state" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "run_after" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "generation" INTEGER NOT NULL DEFAULT 0,
    "locked_at" TIMESTAMPTZ(6),
    "last_error" VARCHAR(2000),
    "last_error_kind" VARCHAR(32),
    "outcome" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "done_at" TIMESTAMPTZ(6),

    CONSTRAINT "gitlab_jobs_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "gitlab_jobs_project_id_pipeline_id_key" ON "gitlab_jobs"("project_id", "pipeline_id");
CREATE INDEX "gitlab_jobs_state_run_after_idx" ON "gitlab_jobs"("state", "run_after");

ALTER TABLE "gitlab_jobs" ADD CONSTRAINT "gitlab_jobs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The one note Flackyness keeps on a merge request, updated by later pipelines.
CREATE TABLE "gitlab_mr_notes" (
    "project_id" UUID NOT NULL,
    "gitlab_project" VARCHAR(255) NOT NULL,
    "mr_iid" INTEGER NOT NULL,
    "note_id" BIGINT NOT NULL,
    "pipeline_id" VARCHAR(64) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "gitlab_mr_notes_pkey" PRIMARY KEY ("project_id", "gitlab_project", "mr_iid")
);

ALTER TABLE "gitlab_mr_notes" ADD CONSTRAINT "gitlab_mr_notes_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
