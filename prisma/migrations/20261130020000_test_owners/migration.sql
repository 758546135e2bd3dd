-- Who owns each test: CODEOWNERS owners of its file and owners it names itself (annotations of
-- type owner, @owner: tags), from the latest result that carried them. Only names are stored.
ALTER TABLE "tests" ADD COLUMN "owners" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Start time of the result the owners came from: a late batch of an older run does not undo a newer answer.
ALTER TABLE "tests" ADD COLUMN "owners_at" TIMESTAMPTZ(6);

-- "Tests of @team-x" and the owners page filter with owners @> ARRAY[...].
CREATE INDEX "tests_owners_idx" ON "tests" USING GIN ("owners");
