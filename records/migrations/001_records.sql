-- The personnel records. The whole dossier is the packed hoso.records.v1.Record in `data`; the
-- columns beside it are copies of the fields that search, scope and reports need.
CREATE SEQUENCE records_id_seq START 100001;

-- Vietnamese folding for search: lower case, no diacritics, đ → d (unaccent maps Đ/đ too).
-- unaccent() is only STABLE; naming the dictionary makes this wrapper safe to index.
CREATE FUNCTION fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT lower(public.unaccent('public.unaccent'::regdictionary, t))
$$;

CREATE TABLE records (
  id                    bigint PRIMARY KEY DEFAULT nextval('records_id_seq'),
  managing_unit_id      bigint NOT NULL,
  unit_path             public.ltree NOT NULL,      -- the managing unit's path (identity)
  version               bigint NOT NULL,
  status                smallint NOT NULL,          -- RecordStatus
  workflow_state        smallint NOT NULL,          -- WorkflowState
  verified              boolean NOT NULL DEFAULT false,
  full_name             text NOT NULL,
  name_folded           text GENERATED ALWAYS AS (fold(full_name)) STORED,
  birth_date            date,
  gender                smallint NOT NULL DEFAULT 0,
  ethnicity_code        text NOT NULL DEFAULT '',
  religion_code         text NOT NULL DEFAULT '',
  rank_code             text NOT NULL DEFAULT '',
  position_code         text NOT NULL DEFAULT '',
  degree_code           text NOT NULL DEFAULT '',
  political_theory_code text NOT NULL DEFAULT '',
  party_member          boolean NOT NULL DEFAULT false,
  category              smallint NOT NULL DEFAULT 0,
  recruitment_date      date,
  home_town             text NOT NULL DEFAULT '',
  search_text           text NOT NULL DEFAULT '',   -- names, other names, places: folded by fold()
  data                  bytea NOT NULL,
  created_by            text NOT NULL DEFAULT '',
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  approved_by           text NOT NULL DEFAULT '',
  approved_at           timestamptz
);
CREATE INDEX records_unit_path ON records USING gist (unit_path);
CREATE INDEX records_unit ON records (managing_unit_id);

ALTER TABLE records ENABLE ROW LEVEL SECURITY;
ALTER TABLE records FORCE ROW LEVEL SECURITY;
CREATE POLICY records_scope ON records USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- Every version of every record, never deleted: GetRecord(as_of) and ListRecordVersions.
-- meta is the packed RecordVersion (who, when, why, field changes); data the packed Record.
CREATE TABLE record_versions (
  record_id  bigint NOT NULL REFERENCES records(id),
  version    bigint NOT NULL,
  action     text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL,
  unit_path  public.ltree NOT NULL,
  meta       bytea NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY (record_id, version)
);
CREATE INDEX record_versions_at ON record_versions (record_id, changed_at);

ALTER TABLE record_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE record_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY record_versions_scope ON record_versions USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));
