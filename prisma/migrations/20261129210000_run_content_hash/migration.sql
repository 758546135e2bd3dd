-- SHA-256 of an uploaded report's bytes: an idempotency key reused for another report is refused.
ALTER TABLE "runs" ADD COLUMN "content_hash" VARCHAR(64);
