-- Kept counts stamped with a snapshot (records' 051 marks log; reporting/kept.c): a kept set is
-- a template's count columns per leaf unit path below one unit (root) for one day, all exact in
-- the snapshot `snap` of the read database. A report uses a set when snap's transactions are
-- all visible to it, re-counts the leaves records marked since, and stamps the set anew with its
-- own snapshot (compare-and-set on snap, so of two reports only one replaces a set).
DROP TABLE kept_counts;
CREATE TABLE kept_sets (
  template  text NOT NULL,
  version   bigint NOT NULL,
  day       date NOT NULL,
  root      public.ltree NOT NULL,
  snap      text NOT NULL,                       -- pg_snapshot of the counting transaction
  used_at   timestamptz NOT NULL DEFAULT now(),  -- last report answered from it (pruning)
  PRIMARY KEY (template, version, day, root)
);
CREATE TABLE kept_counts (
  template  text NOT NULL,
  version   bigint NOT NULL,
  day       date NOT NULL,
  root      public.ltree NOT NULL,
  unit_path public.ltree NOT NULL,
  counts    bigint[] NOT NULL,   -- the template's count columns, in the template's order
  PRIMARY KEY (template, version, day, root, unit_path),
  FOREIGN KEY (template, version, day, root) REFERENCES kept_sets ON DELETE CASCADE
);
CREATE INDEX kept_sets_used ON kept_sets (used_at);
