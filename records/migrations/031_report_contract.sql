-- The read contract records publishes for reporting (docs/API.md, "The reporting contract"):
-- views over its tables, the only thing the role hoso_report may read. Row-level security of
-- the tables still applies through them (the tables force it on their owner, who owns the
-- views), so the reader sets hoso.scope as every service does. Columns are added, never
-- renamed or removed: reporting may run an older or newer release than records.

-- Every period of every record's facts, in valid time and transaction time (030).
-- As of day D, as known now:   known_to = 'infinity' AND valid_from <= D AND D < valid_to
-- As of day D, as known at T:  known_from <= T AND T < known_to AND valid_from <= D AND D < valid_to
CREATE VIEW report_facts AS
SELECT record_id, valid_from, valid_to, known_from, known_to, managing_unit_id, unit_path, status,
       workflow_state, category, full_name, name_folded, birth_date, gender, ethnicity_code,
       religion_code, party_member, party_join_date, rank_code, salary_step, salary_coefficient,
       salary_date, position_allowance, seniority_percent, responsibility_allowance,
       regional_allowance, other_allowances, position_code, position_date, degree_code,
       political_theory_code, state_management_code, it_class, english_class,
       other_language_class, ethnic_language, general_education, staffing_code,
       recruitment_date, official_date, home_town, professional_title, secondment_until,
       disciplines, missing_2c
  FROM fact_periods;

-- The catalogues, for names, rank groups and salary tables (NĐ 204/2004).
CREATE VIEW report_catalog AS
SELECT catalog, code, name, parent_code, active, rank_group, step_coefficients, step_years,
       sort_order
  FROM catalog_entries;

-- When each change was entered and when it took effect: the timeliness of the semi-annual
-- report (000 Đ13, 001 Đ13) and "not updated for a year".
CREATE VIEW report_versions AS
SELECT record_id, version, action, changed_at, effective_date, unit_path
  FROM record_versions;

-- Changes declared by people and their verification deadline (001 Đ9.2a).
CREATE VIEW report_change_requests AS
SELECT id, record_id, unit_path, state, submitted_at, due_at, decided_at
  FROM change_requests;

-- The folded names and places SearchRecords' free text looks through (current dossier).
CREATE VIEW report_search_text AS
SELECT id AS record_id, unit_path, search_text
  FROM records;

-- Grants the contract to the reader role when it exists; the records service calls it at
-- every start, so a role made after this migration gets its grants too. Returns whether it did.
CREATE FUNCTION grant_report_reader() RETURNS boolean LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  s text := current_schema();
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hoso_report') THEN
    RETURN false;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO hoso_report', s);
  EXECUTE format('GRANT SELECT ON %I.report_facts, %I.report_catalog, %I.report_versions, '
                 '%I.report_change_requests, %I.report_search_text TO hoso_report', s, s, s, s, s);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %I.in_scope(public.ltree), %I.fold(text) TO hoso_report', s, s);
  RETURN true;
END $$;
SELECT grant_report_reader();
