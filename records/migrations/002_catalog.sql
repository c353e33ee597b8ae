-- The catalogues (danh mục, 001 Đ8.1): every coded value a record refers to. Deployment-wide
-- (no unit column, so no row-level security); entries are versioned and never deleted.

CREATE TABLE catalog_entries (
  catalog           text NOT NULL,
  code              text NOT NULL,
  name              text NOT NULL,                         -- Vietnamese, NFC
  name_folded       text GENERATED ALWAYS AS (fold(name)) STORED,
  parent_code       text NOT NULL DEFAULT '',
  active            boolean NOT NULL DEFAULT true,
  version           bigint NOT NULL DEFAULT 1,
  -- Salary tables (NĐ 204/2004), RANK entries only: the group (A3.1, A1, B, ...), the
  -- coefficient of each step as exact decimal text, and the years between two steps.
  rank_group        text NOT NULL DEFAULT '',
  step_coefficients text[] NOT NULL DEFAULT '{}',
  step_years        integer NOT NULL DEFAULT 0,
  sort_order        integer NOT NULL DEFAULT 0,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  updated_by        text NOT NULL DEFAULT '',
  PRIMARY KEY (catalog, code),
  CHECK (version >= 1),
  CHECK (step_years IN (0, 2, 3))
);
-- ListCatalog's keyset order.
CREATE INDEX catalog_entries_order ON catalog_entries (catalog, sort_order, code);

-- Every state an entry has had, one row per version, written by the trigger below so that no
-- writer (seed, RPC, an operator's psql) can change an entry without leaving its trace.
CREATE TABLE catalog_entry_versions (
  catalog           text NOT NULL,
  code              text NOT NULL,
  version           bigint NOT NULL,
  name              text NOT NULL,
  parent_code       text NOT NULL,
  active            boolean NOT NULL,
  rank_group        text NOT NULL,
  step_coefficients text[] NOT NULL,
  step_years        integer NOT NULL,
  sort_order        integer NOT NULL,
  changed_by        text NOT NULL,
  changed_at        timestamptz NOT NULL,
  PRIMARY KEY (catalog, code, version)
);

-- One version per catalogue, bumped by every change to one of its entries: the processes'
-- caches (catalog.c) compare it once a second and reload only a catalogue that moved.
CREATE TABLE catalog_meta (
  catalog text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 1
);

CREATE FUNCTION catalog_entry_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'catalogue entries are never deleted; deactivate them (active = false)'
      USING ERRCODE = '42501';
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.catalog <> OLD.catalog OR NEW.code <> OLD.code) THEN
    RAISE EXCEPTION 'a catalogue entry keeps its catalogue and code' USING ERRCODE = '42501';
  END IF;
  INSERT INTO catalog_entry_versions (catalog, code, version, name, parent_code, active,
         rank_group, step_coefficients, step_years, sort_order, changed_by, changed_at)
  VALUES (NEW.catalog, NEW.code, NEW.version, NEW.name, NEW.parent_code, NEW.active,
          NEW.rank_group, NEW.step_coefficients, NEW.step_years, NEW.sort_order, NEW.updated_by,
          NEW.updated_at);
  INSERT INTO catalog_meta AS m (catalog, version) VALUES (NEW.catalog, 1)
  ON CONFLICT (catalog) DO UPDATE SET version = m.version + 1;
  RETURN NEW;
END $$;
CREATE TRIGGER catalog_entries_track BEFORE INSERT OR UPDATE OR DELETE ON catalog_entries
  FOR EACH ROW EXECUTE FUNCTION catalog_entry_track();

CREATE FUNCTION catalog_no_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'catalogues keep every entry and every version; nothing is erased'
    USING ERRCODE = '42501';
END $$;
CREATE TRIGGER catalog_entry_versions_no_change BEFORE UPDATE OR DELETE ON catalog_entry_versions
  FOR EACH ROW EXECUTE FUNCTION catalog_no_erase();
CREATE TRIGGER catalog_entries_no_truncate BEFORE TRUNCATE ON catalog_entries
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_no_erase();
CREATE TRIGGER catalog_entry_versions_no_truncate BEFORE TRUNCATE ON catalog_entry_versions
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_no_erase();
