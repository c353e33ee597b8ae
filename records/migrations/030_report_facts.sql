-- The reporting facts of every record in both times: valid time (from the effective dates of
-- the decisions) and transaction time (when the system learnt it). Written by records only
-- (store_facts.c); read by the reporting service only through the views of 031.
--
-- Each version of a record has an effective date (record_versions.effective_date): the
-- effective date of the decision it rests on, for a new record its recruitment date (the
-- person worked before the dossier was entered), otherwise the day it was entered (UTC, as
-- GetRecord's as_of). A version changes some facts; a fact's value on day D is the one set by
-- the version with the latest effective date on or before D (ties: the later version). So a
-- retirement effective 31 December entered on 5 January counts from 31 December, and a change
-- effective next year never reaches back into this year's periods however it was entered.
--
-- fact_periods holds that composition as periods [valid_from, valid_to) of identical facts,
-- each known from known_from until known_to ('infinity' while it is current knowledge). A
-- write that changes the timeline closes the periods it replaces and adds new ones; nothing is
-- deleted, so "as known on T" is the set of rows with known_from <= T < known_to.
ALTER TABLE record_versions ADD COLUMN effective_date date;
UPDATE record_versions v
   SET effective_date = CASE WHEN v.version = 1 AND r.recruitment_date IS NOT NULL
                              AND r.recruitment_date <= (v.changed_at AT TIME ZONE 'UTC')::date
                             THEN r.recruitment_date
                             ELSE (v.changed_at AT TIME ZONE 'UTC')::date END
  FROM records r WHERE r.id = v.record_id;
ALTER TABLE record_versions ALTER COLUMN effective_date SET NOT NULL;

CREATE TABLE fact_periods (
  record_id              bigint NOT NULL REFERENCES records(id),
  valid_from             date NOT NULL,
  valid_to               date NOT NULL DEFAULT 'infinity',
  known_from             timestamptz NOT NULL DEFAULT now(),
  known_to               timestamptz NOT NULL DEFAULT 'infinity',
  -- the facts (records/facts.c decides each from the dossier)
  managing_unit_id       bigint NOT NULL,
  unit_path              public.ltree NOT NULL,
  status                 smallint NOT NULL,
  workflow_state         smallint NOT NULL,
  category               smallint NOT NULL,
  full_name              text NOT NULL,
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
  it_class               smallint NOT NULL,   -- 0 none, 1 certificate / basic, 2 intermediate or higher
  english_class          smallint NOT NULL,   -- 0 none, 1 certificate, 2 university or higher
  other_language_class   smallint NOT NULL,   -- the same for any other foreign language
  ethnic_language        boolean NOT NULL,    -- a certificate in an ethnic minority language
  general_education      text NOT NULL,
  staffing_code          text NOT NULL,
  recruitment_date       date,
  official_date          date,
  home_town              text NOT NULL,
  professional_title     text NOT NULL,
  secondment_until       date,                -- end of the latest secondment (biệt phái)
  disciplines            jsonb,               -- [{"form": code, "from": date}], NULL when none
  missing_2c             smallint NOT NULL,   -- required fields of form 2C left empty
  name_folded            text GENERATED ALWAYS AS (fold(full_name)) STORED,
  CHECK (valid_from < valid_to),
  CHECK (known_from < known_to)
);
-- One record's current periods (every write reads them) and its history.
CREATE INDEX fact_periods_record ON fact_periods (record_id, known_to, valid_from);
-- The current knowledge of the whole deployment, read by every report of today or a past day.
CREATE INDEX fact_periods_current ON fact_periods (valid_from, valid_to) WHERE known_to = 'infinity';
ALTER TABLE fact_periods ALTER COLUMN disciplines SET COMPRESSION lz4;

ALTER TABLE fact_periods ENABLE ROW LEVEL SECURITY;
ALTER TABLE fact_periods FORCE ROW LEVEL SECURITY;
CREATE POLICY fact_periods_scope ON fact_periods USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- What records publishes is read by reporting with a role of its own that may read the views
-- of 031 and nothing else. The role is made by whoever made the service's role (./hoso, the
-- test harness, an operator: docs/OPERATIONS.md); a database without it gets the grants when
-- it is made and this migration's successor 031 runs GRANT again (idempotent).
