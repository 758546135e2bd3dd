-- What happened to tests, as the analysis and the quarantine decided it: a test became flaky or
-- broken, was fixed, was quarantined or released, or its quarantine expires soon. Alerts, GitLab
-- issues and the automatic quarantine act on these rows, each once.
CREATE TABLE "test_events" (
    "id" BIGSERIAL NOT NULL,
    "project_id" UUID NOT NULL,
    "test_id" UUID NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "from_state" VARCHAR(16),
    "to_state" VARCHAR(16),
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "test_events_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "test_events_project_id_id_idx" ON "test_events"("project_id", "id");
CREATE INDEX "test_events_test_id_id_idx" ON "test_events"("test_id", "id");

ALTER TABLE "test_events" ADD CONSTRAINT "test_events_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "test_events" ADD CONSTRAINT "test_events_test_id_fkey" FOREIGN KEY ("test_id") REFERENCES "tests"("id") ON DELETE CASCADE ON UPDATE CASCADE;
