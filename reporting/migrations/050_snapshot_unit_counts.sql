-- How many records each unit held in a snapshot, so ListSnapshots answers a district's reader
-- with its own district's count (row-level security on the unit path), never the whole
-- system's. Kept per snapshot at take time; the snapshots already taken are counted here.
CREATE TABLE snapshot_unit_counts (
  snapshot_id bigint NOT NULL REFERENCES snapshots(id),
  unit_path   public.ltree NOT NULL,
  records     bigint NOT NULL,
  PRIMARY KEY (snapshot_id, unit_path)
);
ALTER TABLE snapshot_unit_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshot_unit_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY snapshot_unit_counts_scope ON snapshot_unit_counts
  USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- migrations run with every unit in scope, so every fact is counted
INSERT INTO snapshot_unit_counts (snapshot_id, unit_path, records)
  SELECT snapshot_id, unit_path, count(*) FROM snapshot_facts GROUP BY snapshot_id, unit_path;
