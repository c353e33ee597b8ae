-- The units tree (cơ quan, đơn vị): province → department/district → unit → sub-unit/commune.
-- path is the ltree of ids from the root ("1.4.17"); level is nlevel(path).
CREATE SEQUENCE units_id_seq;
CREATE TABLE units (
  id             bigint PRIMARY KEY DEFAULT nextval('units_id_seq'),
  parent_id      bigint REFERENCES units(id),
  code           text NOT NULL,
  name           text NOT NULL,
  type           smallint NOT NULL CHECK (type BETWEEN 1 AND 7),
  level          int NOT NULL,
  path           public.ltree NOT NULL,
  staffing_quota int NOT NULL DEFAULT 0 CHECK (staffing_quota >= 0),
  status         smallint NOT NULL DEFAULT 1 CHECK (status IN (1, 2)),  -- 1 active, 2 dissolved
  merged_into_id bigint REFERENCES units(id),
  version        bigint NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT units_code_key UNIQUE (code),
  CONSTRAINT units_path_key UNIQUE (path),
  CONSTRAINT units_root_has_no_parent CHECK ((parent_id IS NULL) = (level = 1))
);
ALTER SEQUENCE units_id_seq OWNED BY units.id;
CREATE INDEX units_path_gist ON units USING gist (path);
CREATE INDEX units_children ON units (parent_id, name COLLATE "C", id);

-- What happened to each unit, so history keeps old names after renames and merges.
CREATE TABLE unit_history (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  unit_id         bigint NOT NULL REFERENCES units(id),
  at              timestamptz NOT NULL DEFAULT now(),
  action          text NOT NULL,  -- CREATED RENAMED MOVED UPDATED MERGED_INTO ABSORBED
  name            text NOT NULL,
  code            text NOT NULL,
  parent_id       bigint,
  actor_id        text NOT NULL DEFAULT '',
  reason          text NOT NULL DEFAULT '',
  related_unit_id bigint
);
CREATE INDEX unit_history_unit ON unit_history (unit_id, id);

-- Defence in depth behind the service's own scope check.
ALTER TABLE units ENABLE ROW LEVEL SECURITY;
ALTER TABLE units FORCE ROW LEVEL SECURITY;
CREATE POLICY units_scope ON units USING (in_scope(path)) WITH CHECK (in_scope(path));
