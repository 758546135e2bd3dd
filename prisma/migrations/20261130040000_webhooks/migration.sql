-- Notifications: per project, webhooks (Slack, Mattermost, Teams, generic) that are told of test
-- events, and the durable queue of their deliveries. The URL and the signing secret were issued by
-- other systems: sealed like the GitLab token, the URL's host kept apart for display.
CREATE TABLE "webhooks" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "url_sealed" TEXT NOT NULL,
    "url_host" VARCHAR(255) NOT NULL,
    "secret_sealed" TEXT,
    "events" TEXT[],
    "owners" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "start_event_id" BIGINT NOT NULL,
    "last_event_id" BIGINT NOT NULL,
    "last_digest_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "webhooks_project_id_idx" ON "webhooks"("project_id");

ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per event per webhook (event_id null: a weekly digest): the unique key is what keeps an
-- event from being told twice. Claimed with SKIP LOCKED once due; state: pending, done, failed.
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "webhook_id" UUID NOT NULL,
    "event_id" BIGINT,
    "event" VARCHAR(32) NOT NULL,
    "payload" JSONB NOT NULL,
    "state" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "run_after" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_at" TIMESTAMPTZ(6),
    "last_status" INTEGER,
    "last_error" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "done_at" TIMESTAMPTZ(6),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "webhook_deliveries_webhook_id_event_id_key" ON "webhook_deliveries"("webhook_id", "event_id");
CREATE INDEX "webhook_deliveries_state_run_after_idx" ON "webhook_deliveries"("state", "run_after");
CREATE INDEX "webhook_deliveries_webhook_id_created_at_idx" ON "webhook_deliveries"("webhook_id", "created_at" DESC);

ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
