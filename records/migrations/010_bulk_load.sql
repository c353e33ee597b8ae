-- Less work per inserted record, for the bulk import (docs/BENCHMARKS.md, "Bulk load").

-- record_versions_at (record_id, changed_at) served GetRecord(as_of): "the last version of this
-- record changed before D". The primary key (record_id, version) finds the same few rows of one
-- record (a record has a handful of versions) and gives them in version order, so the query
-- reads them backwards and stops at the first one old enough; checked with EXPLAIN as the
-- service's role under row-level security on 1 M records. One btree insert less per version.
DROP INDEX record_versions_at;

-- The same folding, computed by PL/pgSQL instead of a SQL function. fold() cannot be inlined
-- (unaccent() is only STABLE), so as a SQL function every call set up a small executor: about
-- 2 µs, and a new record calls it five times (name_folded, given_folded, name_w2, name_w3,
-- search_text). PL/pgSQL evaluates the same expression with a cached plan in about 0.9 µs
-- (measured on 100 000 names, identical results). The results are the same, so every index
-- built on fold() stays valid.
CREATE OR REPLACE FUNCTION fold(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
BEGIN
  RETURN lower(public.unaccent('public.unaccent'::regdictionary, t));
END
$$;
