-- Every open step, of transfers (written with the step) and of records (records' own steps,
-- copied from records' ListRecordSteps feed): what ListDeadlines reads, in one indexed query
-- per page. Derived data: a closed step's row is removed (its history stays in transfer_steps
-- and in records). due_date is NULL while the policy sets no deadline for the step; due dates
-- are counted again when the policy or the calendar changes, from the two dates kept.
CREATE TABLE deadlines (
  id             bigserial PRIMARY KEY,
  source         smallint NOT NULL CHECK (source IN (1, 2)),       -- 1 TRANSFER, 2 RECORD
  step           smallint NOT NULL CHECK (step BETWEEN 1 AND 11),  -- StepKind
  transfer_id    bigint,
  record_id      bigint NOT NULL,
  record_name    text NOT NULL DEFAULT '',
  ref            text NOT NULL DEFAULT '',  -- RECORD: the change request of a declaration
  unit_id        bigint NOT NULL,
  unit_path      public.ltree NOT NULL,
  effective_date date,
  previous_date  date NOT NULL,
  due_date       date,
  estimated      boolean NOT NULL DEFAULT false,
  CHECK ((source = 1) = (transfer_id IS NOT NULL))
);
-- unit_key: the unit path as text ending in '.', so a subtree is one btree range that row-level
-- security lets the planner use (ltree's <@ is not leakproof; records 003, 005).
ALTER TABLE deadlines ADD COLUMN unit_key text COLLATE "C" GENERATED ALWAYS AS (unit_path::text || '.') STORED;
CREATE INDEX deadlines_due ON deadlines (due_date, id) INCLUDE (unit_key, unit_path) WHERE due_date IS NOT NULL;
CREATE INDEX deadlines_unit ON deadlines (unit_key, due_date, id) WHERE due_date IS NOT NULL;
CREATE UNIQUE INDEX deadlines_transfer ON deadlines (transfer_id) WHERE source = 1;
CREATE INDEX deadlines_record ON deadlines (record_id) WHERE source = 2;
ALTER TABLE deadlines ENABLE ROW LEVEL SECURITY;
ALTER TABLE deadlines FORCE ROW LEVEL SECURITY;
CREATE POLICY deadlines_scope ON deadlines USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- Where the copy of records' steps stands: the position in records' feed (ListRecordSteps)
-- applied last, advanced in the transaction that applies a page.
CREATE TABLE record_steps_cursor (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  position   text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO record_steps_cursor DEFAULT VALUES;
