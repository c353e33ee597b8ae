-- The reporting service's own tables: report templates (versioned, never deleted) and the
-- monthly snapshots of the reporting facts (001 Đ11.5). The facts themselves are records'
-- (records.report_facts); a snapshot is a frozen copy of them.

CREATE TABLE templates (
  code        text PRIMARY KEY,              -- "BM01/BNV"
  name        text NOT NULL,
  version     bigint NOT NULL CHECK (version >= 1),
  definition  jsonb NOT NULL,                -- docs/REPORT_TEMPLATES.md
  builtin     boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL DEFAULT ''
);

CREATE TABLE template_versions (
  code        text NOT NULL REFERENCES templates(code),
  version     bigint NOT NULL,
  name        text NOT NULL,
  definition  jsonb NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  changed_by  text NOT NULL DEFAULT '',
  PRIMARY KEY (code, version)
);

-- Every version kept: the trigger writes each, nothing erases one.
CREATE FUNCTION template_track() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'templates are never deleted' USING ERRCODE = '42501';
  END IF;
  INSERT INTO template_versions (code, version, name, definition, changed_at, changed_by)
  VALUES (NEW.code, NEW.version, NEW.name, NEW.definition, NEW.updated_at, NEW.updated_by);
  RETURN NULL;
END $$;
-- AFTER: the version row refers to the template row, which must exist first.
CREATE TRIGGER templates_track AFTER INSERT OR UPDATE ON templates
  FOR EACH ROW EXECUTE FUNCTION template_track();
CREATE TRIGGER templates_no_delete BEFORE DELETE ON templates
  FOR EACH ROW EXECUTE FUNCTION template_track();

-- Monthly snapshots: the facts in force on the first day of `month`, as known when taken.
CREATE SEQUENCE snapshots_id_seq START 1;
CREATE TABLE snapshots (
  id          bigint PRIMARY KEY DEFAULT nextval('snapshots_id_seq'),
  month       date NOT NULL UNIQUE CHECK (extract(day FROM month) = 1),
  taken_at    timestamptz NOT NULL DEFAULT now(),
  records     bigint NOT NULL DEFAULT 0,
  automatic   boolean NOT NULL,
  taken_by    text NOT NULL DEFAULT ''
);

CREATE TABLE snapshot_facts (
  snapshot_id            bigint NOT NULL REFERENCES snapshots(id),
  record_id              bigint NOT NULL,
  managing_unit_id       bigint NOT NULL,
  unit_path              public.ltree NOT NULL,
  status                 smallint NOT NULL,
  workflow_state         smallint NOT NULL,
  category               smallint NOT NULL,
  full_name              text NOT NULL,
  name_folded            text NOT NULL,
  birth_date             date,
  gender                 smallint NOT NULL,
  ethnicity_code         text NOT NULL,
  religion_code          text NOT NULL,
  party_member           boolean NOT NULL,
  party_join_date        date,
  rank_code              text NOT NULL,
  salary_step            smallint NOT NULL,
  salary_coefficient     numeric,
  salary_date            date,
  position_allowance     numeric,
  seniority_percent      numeric,
  responsibility_allowance numeric,
  regional_allowance     numeric,
  other_allowances       numeric,
  position_code          text NOT NULL,
  position_date          date,
  degree_code            text NOT NULL,
  political_theory_code  text NOT NULL,
  state_management_code  text NOT NULL,
  it_class               smallint NOT NULL,
  english_class          smallint NOT NULL,
  other_language_class   smallint NOT NULL,
  ethnic_language        boolean NOT NULL,
  general_education      text NOT NULL,
  staffing_code          text NOT NULL,
  recruitment_date       date,
  official_date          date,
  home_town              text NOT NULL,
  professional_title     text NOT NULL,
  secondment_until       date,
  disciplines            jsonb,
  missing_2c             smallint NOT NULL,
  PRIMARY KEY (snapshot_id, record_id)
);
-- in_scope reads only the transaction's hoso.scope, which parallel workers get too: a report
-- on a snapshot may scan in parallel (records/migrations/032 says the same of records').
ALTER FUNCTION in_scope(public.ltree) PARALLEL SAFE;
ALTER TABLE snapshot_facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshot_facts FORCE ROW LEVEL SECURITY;
CREATE POLICY snapshot_facts_scope ON snapshot_facts USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- Reports on a snapshot run on the read connection (role hoso_report), like reports on the
-- live facts; the grant is made when the role exists (see records' grant_report_reader()).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hoso_report') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO hoso_report', current_schema());
    EXECUTE format('GRANT SELECT ON %I.snapshot_facts, %I.snapshots TO hoso_report', current_schema(), current_schema());
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.in_scope(public.ltree) TO hoso_report', current_schema());
  END IF;
END $$;
