-- Packages kept in pieces: a dossier's scans pass one message (and one bytea held in memory), so
-- a package is stored, written and read as its bytes in order, one piece of at most 1 MiB at a
-- time. Part 0 is the head (manifest, signature, key id); then each part's framing (seq 0,
-- written once its length is known) and its content (seq 1...). Packages made before are moved
-- into pieces of part 0 (their bytes, cut every 1 MiB), and their whole copy dropped.
SELECT set_config('hoso.scope', '*', true);  -- packages have row-level security, forced

CREATE TABLE package_chunks (
  transfer_id bigint NOT NULL REFERENCES transfers(id),
  part        integer NOT NULL CHECK (part >= 0),
  seq         integer NOT NULL CHECK (seq >= 0),
  content     bytea NOT NULL CHECK (length(content) <= 1048576),
  PRIMARY KEY (transfer_id, part, seq)
);
ALTER TABLE package_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE package_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY package_chunks_scope ON package_chunks
  USING (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id))
  WITH CHECK (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id));

ALTER TABLE packages ADD COLUMN size bigint;
INSERT INTO package_chunks (transfer_id, part, seq, content)
  SELECT transfer_id, 0, g, substring(content FROM g * 1048576 + 1 FOR 1048576)
    FROM packages, generate_series(0, (length(content) - 1) / 1048576) AS g;
UPDATE packages SET size = length(content);
ALTER TABLE packages DROP COLUMN content;
ALTER TABLE packages ALTER COLUMN size SET NOT NULL;
