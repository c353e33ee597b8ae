-- The feed of tree changes other services follow (records keeps a copy of each unit's path):
-- one row per MoveUnit and per MergeUnits, written in the same transaction as the change.
-- seq is taken as max + 1 while the change holds the tree lock exclusively (su_lock_tree), so
-- numbers have no gaps (a rolled-back change takes none) and commit in number order: a reader
-- that has seen N never later finds a change numbered below N.
CREATE TABLE unit_changes (
  seq          bigint PRIMARY KEY CHECK (seq >= 1),
  kind         smallint NOT NULL CHECK (kind IN (1, 2)),  -- UnitChangeKind: 1 MOVED, 2 MERGED
  unit_id      bigint NOT NULL REFERENCES units(id),      -- the unit moved, or A of a merge
  old_path     public.ltree NOT NULL,                     -- its path before
  new_path     public.ltree NOT NULL,                     -- after; for a merge: B's path
  successor_id bigint REFERENCES units(id),               -- B of a merge, NULL for a move
  reason       text NOT NULL DEFAULT '',
  actor_id     text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 2) = (successor_id IS NOT NULL))
);

-- Defence in depth: a reader sees a change only when both ends lie in its scope. The feed's
-- readers (SYSTEM_ADMIN, a service client granted the root) see every row.
ALTER TABLE unit_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY unit_changes_scope ON unit_changes
  USING (in_scope(old_path) AND in_scope(new_path)) WITH CHECK (in_scope(old_path) AND in_scope(new_path));
