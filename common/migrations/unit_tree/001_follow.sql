-- A service that files rows by unit follows identity's unit tree (common/unit_tree.h): the
-- cursor of the last change of identity's feed (ListUnitChanges) applied here, and what each
-- applied change did, for operators. Each change is applied in one transaction that locks the
-- cursor row and advances it, so it is applied exactly once however many processes of the
-- service run and whenever they stop. Applied to the schema of each service that follows.
CREATE TABLE unit_tree_cursor (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),  -- the one row
  last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO unit_tree_cursor DEFAULT VALUES;

CREATE TABLE unit_tree_applied (
  seq          bigint PRIMARY KEY,        -- identity's unit_changes.seq
  kind         smallint NOT NULL CHECK (kind IN (1, 2)),  -- 1 MOVED, 2 MERGED
  unit_id      bigint NOT NULL,           -- the unit moved, or A of a merge
  old_path     public.ltree NOT NULL,
  new_path     public.ltree NOT NULL,
  successor_id bigint,                    -- B of a merge
  reason       text NOT NULL DEFAULT '',
  actor_id     text NOT NULL DEFAULT '',  -- who changed the tree (identity)
  changed_at   timestamptz NOT NULL,      -- when identity committed it
  applied_at   timestamptz NOT NULL DEFAULT now(),
  counts       jsonb NOT NULL DEFAULT '{}'  -- what the service re-filed, by its own names
);
ALTER TABLE unit_tree_applied ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_tree_applied FORCE ROW LEVEL SECURITY;
CREATE POLICY unit_tree_applied_scope ON unit_tree_applied
  USING (in_scope(old_path) AND in_scope(new_path)) WITH CHECK (in_scope(old_path) AND in_scope(new_path));
