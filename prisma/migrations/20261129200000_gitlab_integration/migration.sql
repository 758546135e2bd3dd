-- One GitLab connection per project. The access token is sealed with AES-256-GCM by the server
-- (server/src/lib/secrets.ts): this table never holds it in clear.

-- CreateTable
CREATE TABLE "gitlab_integrations" (
    "project_id" UUID NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "token_sealed" TEXT NOT NULL,
    "gitlab_project" VARCHAR(255),
    "mr_notes" BOOLEAN NOT NULL DEFAULT true,
    "commit_status" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL,
    "checked_at" TIMESTAMPTZ(6),
    "check_status" VARCHAR(32),
    "check_message" VARCHAR(2000),

    CONSTRAINT "gitlab_integrations_pkey" PRIMARY KEY ("project_id")
);

-- AddForeignKey
ALTER TABLE "gitlab_integrations" ADD CONSTRAINT "gitlab_integrations_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
