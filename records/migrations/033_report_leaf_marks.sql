-- Change marks for reporting's kept counts (reporting/kept.c, docs/ARCHITECTURE.md "How a
-- report is computed"): one mark per leaf path of fact_periods (every unit_path a period has),
-- given a new value from one sequence in the SAME transaction as any insert, update (a close,
-- a unit move of store_follow_units.c that rewrites unit_path: both the old and the new path)
-- or delete of that leaf's periods. A report reads the marks in its own snapshot together with
-- the facts, so a kept count taken at mark m is still exact exactly while the leaf's mark is m:
-- sequence values never repeat, so any change committed since gives the leaf another mark.
--
-- The catalogue is read by predicates too (rank_group: the RANK catalogue), so a change of any
-- catalogue entry moves one more mark, the catalogue's, which every kept count also carries.
CREATE SEQUENCE report_mark_seq;

-- A report re-counts the current periods of a few leaves, found by an index rather than a scan of
-- every period (105-354 ms at 100 000 people: docs/BENCHMARKS.md). Not by unit_path itself:
-- under row-level security PostgreSQL uses a condition for an index only when its operator is
-- leakproof, which ltree's = is not (and only a superuser may declare it so); bigint's = is. So
-- each period carries a 64-bit hash of its path, and a re-count asks for the hashes of its
-- leaves AND for the paths themselves (a collision costs a row read, never a wrong count).
ALTER TABLE fact_periods ADD COLUMN leaf_key bigint GENERATED ALWAYS AS (hashtextextended(unit_path::text, 0)) STORED;
CREATE INDEX fact_periods_leaf ON fact_periods (leaf_key) WHERE known_to = 'infinity';

CREATE TABLE report_leaf_marks (
  unit_path public.ltree PRIMARY KEY,
  mark      bigint NOT NULL
);
-- The same scope rule as the facts: a caller sees a leaf's mark exactly when it sees the leaf's
-- periods (both decided by in_scope(unit_path) alone), so a leaf is wholly in or out.
ALTER TABLE report_leaf_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_leaf_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY report_leaf_marks_scope ON report_leaf_marks USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

CREATE TABLE report_catalog_mark (
  one  boolean PRIMARY KEY DEFAULT true CHECK (one),
  mark bigint NOT NULL
);
INSERT INTO report_catalog_mark (mark) VALUES (nextval('report_mark_seq'));

INSERT INTO report_leaf_marks (unit_path, mark)
SELECT unit_path, nextval('report_mark_seq') FROM (SELECT DISTINCT unit_path FROM fact_periods) p;

-- Statement triggers over the transition tables: a bulk write of thousands of periods moves
-- each of its leaves' marks once. Leaves in path order, so two writers take the rows' locks in
-- the same order within a statement (a deadlock across statements is retried by db_tx).
CREATE FUNCTION report_leaf_mark() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_leaf_marks (unit_path, mark)
    SELECT p, nextval('report_mark_seq') FROM (SELECT DISTINCT unit_path AS p FROM new_rows ORDER BY 1) x
    ON CONFLICT (unit_path) DO UPDATE SET mark = EXCLUDED.mark;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_leaf_marks (unit_path, mark)
    SELECT p, nextval('report_mark_seq') FROM (SELECT DISTINCT unit_path AS p FROM old_rows ORDER BY 1) x
    ON CONFLICT (unit_path) DO UPDATE SET mark = EXCLUDED.mark;
  ELSE
    INSERT INTO report_leaf_marks (unit_path, mark)
    SELECT p, nextval('report_mark_seq')
      FROM (SELECT unit_path AS p FROM old_rows UNION SELECT unit_path FROM new_rows ORDER BY 1) x
    ON CONFLICT (unit_path) DO UPDATE SET mark = EXCLUDED.mark;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fact_periods_mark_insert AFTER INSERT ON fact_periods
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();
CREATE TRIGGER fact_periods_mark_update AFTER UPDATE ON fact_periods
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();
CREATE TRIGGER fact_periods_mark_delete AFTER DELETE ON fact_periods
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_leaf_mark();

CREATE FUNCTION report_catalog_mark_bump() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE report_catalog_mark SET mark = nextval('report_mark_seq');
  RETURN NULL;
END $$;
CREATE TRIGGER catalog_entries_mark AFTER INSERT OR UPDATE OR DELETE ON catalog_entries
  FOR EACH STATEMENT EXECUTE FUNCTION report_catalog_mark_bump();

-- The contract (031): the facts with their leaf key (a column added at the end), the marks.
CREATE OR REPLACE VIEW report_facts AS
SELECT record_id, valid_from, valid_to, known_from, known_to, managing_unit_id, unit_path, status,
       workflow_state, category, full_name, name_folded, birth_date, gender, ethnicity_code,
       religion_code, party_member, party_join_date, rank_code, salary_step, salary_coefficient,
       salary_date, position_allowance, seniority_percent, responsibility_allowance,
       regional_allowance, other_allowances, position_code, position_date, degree_code,
       political_theory_code, state_management_code, it_class, english_class,
       other_language_class, ethnic_language, general_education, staffing_code,
       recruitment_date, official_date, home_town, professional_title, secondment_until,
       disciplines, missing_2c, leaf_key
  FROM fact_periods;
CREATE VIEW report_marks AS
SELECT unit_path, mark FROM report_leaf_marks;
CREATE VIEW report_catalog_marks AS
SELECT mark FROM report_catalog_mark;

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
                 '%I.report_catalog_marks TO hoso_report', s, s, s, s, s, s, s);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %I.in_scope(public.ltree), %I.fold(text) TO hoso_report', s, s);
  RETURN true;
END $$;
SELECT grant_report_reader();
