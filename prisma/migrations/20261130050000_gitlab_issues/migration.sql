-- GitLab issues for flaky tests: the connection's switch and labels, how far it has read the test
-- events, the one issue kept per test, and issue jobs in the GitLab queue beside pipeline reports.

ALTER TABLE "gitlab_integrations" ADD COLUMN "issues" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "gitlab_integrations" ADD COLUMN "issue_labels" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "gitlab_integrations" ADD COLUMN "issues_event_id" BIGINT;

-- kind 'pipeline': pipeline_id is a pipeline (MR note, commit status); kind 'issue': it is a test id.
ALTER TABLE "gitlab_jobs" ADD COLUMN "kind" VARCHAR(16) NOT NULL DEFAULT 'pipeline';
DROP INDEX "gitlab_jobs_project_id_pipeline_id_key";
CREATE UNIQUE INDEX "gitlab_jobs_project_id_kind_pipeline_id_key" ON "gitlab_jobs"("project_id", "kind", "pipeline_id");

CREATE TABLE "gitlab_issues" (
    "project_id" UUID NOT NULL,
    "test_id" UUID NOT NULL,
    "gitlab_project" VARCHAR(255) NOT NULL,
    "issue_iid" INTEGER NOT NULL,
    "web_url" VARCHAR(2048),
    "state" VARCHAR(16) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "gitlab_issues_pkey" PRIMARY KEY ("project_id", "test_id")
);

ALTER TABLE "gitlab_issues" ADD CONSTRAINT "gitlab_issues_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "gitlab_issues" ADD CONSTRAINT "gitlab_issues_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
