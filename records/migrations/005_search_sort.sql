-- Columns SearchRecords needs beside 001's copies, computed by PostgreSQL from the stored name
-- and unit path so that every writer (one record or a bulk import) keeps them right.
--
-- unit_key: the unit path as text ending in '.', so a subtree is one btree range
--   (unit_key >= '1.4.' AND unit_key < '1.4/') that row-level security lets the planner use
--   (ltree's <@ is not leakproof; see 003).
-- given_folded: the given name (tên), the last word: Vietnamese lists sort by it, then by the
--   full name.
-- name_w2, name_w3: the folded name from its second and third word on (NULL when shorter).
--   With name_folded and given_folded they let a name query match from the start of any word
--   of a name of up to four words ("van an" and "an" find "Nguyễn Văn An") as a btree prefix
--   range; in longer names every word but the first three and the last is not a start.
-- Each column folds a part of the name (folding is per character, so the fold of a part is
-- the same part of the fold) with one fold() call: fold() is a SQL function that costs about
-- 2 µs a call, the largest part of a bulk import's per-row cost in PostgreSQL.
ALTER TABLE records
  ADD COLUMN unit_key text COLLATE "C" GENERATED ALWAYS AS (unit_path::text || '.') STORED,
  ADD COLUMN given_folded text COLLATE "C"
    GENERATED ALWAYS AS (fold(split_part(full_name, ' ', -1))) STORED,
  ADD COLUMN name_w2 text COLLATE "C"
    GENERATED ALWAYS AS (CASE WHEN strpos(full_name, ' ') > 0
                         THEN fold(substr(full_name, strpos(full_name, ' ') + 1)) END) STORED,
  ADD COLUMN name_w3 text COLLATE "C"
    GENERATED ALWAYS AS (CASE WHEN split_part(full_name, ' ', 3) <> ''
                         THEN fold(substr(full_name, length(split_part(full_name, ' ', 1))
                                          + length(split_part(full_name, ' ', 2)) + 3)) END) STORED;

-- A unit subtree, counted index-only (the unit path row-level security checks rides along).
CREATE INDEX records_unit_key ON records (unit_key, id) INCLUDE (unit_path);
-- One index per place a name match may start, each carrying what a name search in name order
-- needs (the record, its sort key, and the unit path row-level security checks), so that the
-- count and the choice of a page are index-only scans; a search reads only the page's rows.
CREATE INDEX records_name_s0 ON records (name_folded COLLATE "C")
  INCLUDE (id, given_folded, unit_key, unit_path);
CREATE INDEX records_name_w2 ON records (name_w2)
  INCLUDE (id, given_folded, name_folded, unit_key, unit_path) WHERE name_w2 IS NOT NULL;
CREATE INDEX records_name_w3 ON records (name_w3)
  INCLUDE (id, given_folded, name_folded, unit_key, unit_path) WHERE name_w3 IS NOT NULL;
-- Name order itself (given name, full name), and the given-name range.
CREATE INDEX records_given ON records (given_folded, name_folded COLLATE "C", id) INCLUDE (unit_key, unit_path);

-- The packed dossiers (about 3 KB each) are compressed with lz4 rather than pglz: pglz was the
-- largest single cost of a bulk import inside PostgreSQL (measured), lz4 is several times
-- faster for a slightly larger result.
ALTER TABLE records ALTER COLUMN data SET COMPRESSION lz4;
ALTER TABLE record_versions ALTER COLUMN data SET COMPRESSION lz4, ALTER COLUMN meta SET COMPRESSION lz4;
