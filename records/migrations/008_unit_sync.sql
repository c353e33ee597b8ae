-- Records follow identity's unit tree through its change feed (ListUnitChanges; unit_sync.c):
-- the cursor of the last change applied, and what each applied change did, for operators.
-- Each change is applied in one transaction that locks the cursor row and advances it, so a
-- change is applied exactly once however many records processes run and whenever they stop.
CREATE TABLE unit_sync_cursor (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),  -- the one row
  last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO unit_sync_cursor DEFAULT VALUES;

CREATE TABLE unit_changes_applied (
  seq             bigint PRIMARY KEY,        -- identity's unit_changes.seq
  kind            smallint NOT NULL CHECK (kind IN (1, 2)),  -- 1 MOVED, 2 MERGED
  unit_id         bigint NOT NULL,           -- the unit moved, or A of a merge
  old_path        public.ltree NOT NULL,
  new_path        public.ltree NOT NULL,
  successor_id    bigint,                    -- B of a merge
  reason          text NOT NULL DEFAULT '',
  actor_id        text NOT NULL DEFAULT '',  -- who changed the tree (identity)
  changed_at      timestamptz NOT NULL,      -- when identity committed it
  applied_at      timestamptz NOT NULL DEFAULT now(),
  merged_records  bigint NOT NULL DEFAULT 0, -- A's records given to B (a new version each)
  moved_records   bigint NOT NULL DEFAULT 0, -- records whose unit path got the new prefix
  moved_versions  bigint NOT NULL DEFAULT 0, -- record_versions whose access path followed
  moved_requests  bigint NOT NULL DEFAULT 0  -- change requests whose path followed
);
ALTER TABLE unit_changes_applied ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_changes_applied FORCE ROW LEVEL SECURITY;
CREATE POLICY unit_changes_applied_scope ON unit_changes_applied
  USING (in_scope(old_path) AND in_scope(new_path)) WITH CHECK (in_scope(old_path) AND in_scope(new_path));
