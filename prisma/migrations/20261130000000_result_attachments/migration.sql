-- Traces, screenshots and videos the failed attempts left behind: name, content type, path relative
-- to the project directory (a GitLab job artifact path) and attempt, never the files themselves.
-- NULL when there are none. Added on the partitioned parent, so every partition has it.
ALTER TABLE "test_results" ADD COLUMN "attachments" JSONB;
