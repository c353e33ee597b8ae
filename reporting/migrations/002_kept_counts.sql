-- Kept counts (reporting/kept.c): a template's count columns per leaf unit path for one day,
-- as currently known, with the marks records gave that leaf and its catalogue when they were
-- counted (records' 033). Written on reporting's own connection (the read role may only read);
-- a report uses a row only while the leaf's mark in the report's snapshot is still `mark`.
-- No row-level security here: a caller only ever gets the rows of the leaves whose marks its
-- scope lets it read on the read connection (a leaf is wholly in or out of a scope).
CREATE TABLE kept_counts (
  template      text NOT NULL,
  version       bigint NOT NULL,
  day           date NOT NULL,
  unit_path     public.ltree NOT NULL,
  mark          bigint NOT NULL,
  catalog_mark  bigint NOT NULL,
  counts        bigint[] NOT NULL,   -- the template's count columns, in the template's order
  kept_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (template, version, day, unit_path)
);
