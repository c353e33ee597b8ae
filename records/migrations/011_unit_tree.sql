-- The cursor and the log of the unit-change feed moved to the common unit_tree series
-- (common/migrations/unit_tree, applied before this one): carried over, then the records-only
-- tables of 008 go. The log's four counts become the counts object under the same names.
SELECT set_config('hoso.scope', '*', true);  -- the log has row-level security, forced
UPDATE unit_tree_cursor SET (last_seq, updated_at) = (SELECT last_seq, updated_at FROM unit_sync_cursor);
INSERT INTO unit_tree_applied (seq, kind, unit_id, old_path, new_path, successor_id, reason, actor_id, changed_at,
                               applied_at, counts)
  SELECT seq, kind, unit_id, old_path, new_path, successor_id, reason, actor_id, changed_at, applied_at,
         jsonb_build_object('merged_records', merged_records, 'moved_records', moved_records,
                            'moved_versions', moved_versions, 'moved_requests', moved_requests)
  FROM unit_changes_applied;
DROP TABLE unit_changes_applied;
DROP TABLE unit_sync_cursor;
