-- Change marks for reporting's kept counts, append-only (replaces 033's one row per leaf, which
-- every writer of a leaf updated: writers queued on it, and two transactions moving people
-- between two leaves in opposite orders deadlocked, 40P01). Now a writer of a leaf's periods
-- only INSERTs (leaf path, its own top-level transaction id) in the same transaction: no row is
-- shared between writers, so nothing waits on anything and no deadlock can form.
--
-- How reporting stays exact (reporting/kept.c, docs/ARCHITECTURE.md "How a report is
-- computed"): a kept set of counts is stamped with the snapshot H (pg_current_snapshot()) of
-- the transaction that counted it. A later report, in its snapshot C:
--   1. checks H ⊆ C (every transaction visible in H is visible in C: xmax(H) <= xmax(C) and no
--      xid below xmax(H) is in progress in C unless it was in progress in H too);
--   2. re-counts every leaf with a mark visible in C whose transaction is not visible in H
--      (NOT pg_visible_in_snapshot(xid, H)): those are exactly the transactions in C minus H,
--      and any of them that wrote a leaf's periods left a mark for it in its own transaction;
--   3. takes every other leaf's count from the kept set: no transaction in C minus H touched it
--      and none in H minus C exists (1), so its periods in C are those in H.
-- Transaction ids, unlike sequence values, need no commit order: visibility in H is decided by
-- H itself, so a mark that commits after another with a higher number is still seen as new.
CREATE TABLE report_mark_log (
  xid       bigint NOT NULL,          -- pg_current_xact_id() of the writer (64-bit: never wraps)
  unit_path public.ltree NOT NULL,
  PRIMARY KEY (xid, unit_path)        -- a transaction's own duplicates only; by xid for the reader
);
-- The same scope rule as the facts: a caller sees a leaf's marks exactly when it sees its periods.
ALTER TABLE report_mark_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_mark_log FORCE ROW LEVEL SECURITY;
CREATE POLICY report_mark_log_scope ON report_mark_log USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- The log is pruned (report_marks_prune, run by records' facts job): marks of transactions below
-- `pruned_below` are gone, so a kept set whose H has xmin(H) < pruned_below can no longer be
-- checked and is counted anew. The delete and the new horizon commit together, so a report
-- sees both or neither. The horizon pruned to is one taken at least `keep` earlier (candidate),
-- so kept sets in use (re-stamped by every report) are never invalidated by a prune.
CREATE TABLE report_mark_horizon (
  one          boolean PRIMARY KEY DEFAULT true CHECK (one),
  pruned_below bigint NOT NULL DEFAULT 0,
  candidate    bigint,
  candidate_at timestamptz
);
INSERT INTO report_mark_horizon DEFAULT VALUES;

DROP TRIGGER fact_periods_mark_insert ON fact_periods;
DROP TRIGGER fact_periods_mark_update ON fact_periods;
DROP TRIGGER fact_periods_mark_delete ON fact_periods;
DROP TRIGGER catalog_entries_mark ON catalog_entries;
DROP VIEW report_marks;
DROP VIEW report_catalog_marks;
DROP FUNCTION report_leaf_mark();
DROP FUNCTION report_catalog_mark_bump();
DROP TABLE report_leaf_marks;
DROP TABLE report_catalog_mark;
DROP SEQUENCE report_mark_seq;

CREATE FUNCTION report_leaf_mark() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  x bigint := pg_current_xact_id()::text::bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_mark_log (xid, unit_path) SELECT DISTINCT x, unit_path FROM new_rows ON CONFLICT DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_mark_log (xid, unit_path) SELECT DISTINCT x, unit_path FROM old_rows ON CONFLICT DO NOTHING;
  ELSE
    INSERT INTO report_mark_log (xid, unit_path)
    SELECT x, p FROM (SELECT unit_path AS p FROM old_rows UNION SELECT unit_path FROM new_rows) u
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fact_periods_mark_insert AFTER INSERT ON fact_periods
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();
CREATE TRIGGER fact_periods_mark_update AFTER UPDATE ON fact_periods
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();
CREATE TRIGGER fact_periods_mark_delete AFTER DELETE ON fact_periods
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();

-- The catalogue (read by predicates: rank_group) changes rarely, by administrators: one row
-- holding the id of its latest writer. Writers of the catalogue update it in turn, so the
-- version a report sees is that of the last of them it sees; if that one is visible in H, every
-- earlier one is too (it committed before the last could update the row).
CREATE TABLE report_catalog_change (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  xid bigint NOT NULL
);
INSERT INTO report_catalog_change (xid) VALUES (pg_current_xact_id()::text::bigint);
CREATE FUNCTION report_catalog_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE report_catalog_change SET xid = pg_current_xact_id()::text::bigint;
  RETURN NULL;
END $$;
CREATE TRIGGER catalog_entries_mark AFTER INSERT OR UPDATE OR DELETE ON catalog_entries
  FOR EACH STATEMENT EXECUTE FUNCTION report_catalog_changed();

-- Prunes the log (records' facts job calls it, hourly when idle): deletes the marks below the
-- candidate horizon once it is `keep` old, then takes a new candidate (the oldest transaction
-- still running now: every mark below it is of a finished transaction). Returns marks deleted.
CREATE FUNCTION report_marks_prune(keep interval) RETURNS bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  h report_mark_horizon%ROWTYPE;
  n bigint := 0;
BEGIN
  SELECT * INTO h FROM report_mark_horizon FOR UPDATE;
  IF h.candidate IS NOT NULL AND h.candidate_at <= now() - keep THEN
    DELETE FROM report_mark_log WHERE xid < h.candidate;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE report_mark_horizon SET pruned_below = h.candidate, candidate = NULL, candidate_at = NULL;
    h.candidate := NULL;
  END IF;
  IF h.candidate IS NULL THEN
    UPDATE report_mark_horizon
       SET candidate = pg_snapshot_xmin(pg_current_snapshot())::text::bigint, candidate_at = now();
  END IF;
  RETURN n;
END $$;

-- The contract (031): the log, the catalogue's latest writer and the prune horizon.
CREATE VIEW report_marks AS SELECT xid, unit_path FROM report_mark_log;
CREATE VIEW report_mark_state AS
SELECT (SELECT xid FROM report_catalog_change) AS catalog_xid,
       (SELECT pruned_below FROM report_mark_horizon) AS pruned_below;

CREATE OR REPLACE FUNCTION grant_report_reader() RETURNS boolean LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  s text := current_schema();
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hoso_report') THEN
    RETURN false;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO hoso_report', s);
  EXECUTE format('GRANT SELECT ON %I.report_facts, %I.report_catalog, %I.report_versions, '
                 '%I.report_change_requests, %I.report_search_text, %I.report_marks, '
                 '%I.report_mark_state TO hoso_report', s, s, s, s, s, s, s);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %I.in_scope(public.ltree), %I.fold(text) TO hoso_report', s, s);
  RETURN true;
END $$;
SELECT grant_report_reader();
