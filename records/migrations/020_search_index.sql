-- Name and free-text search as officers type it (issue 10): every word typed is the start of a
-- word of the name, in any order, with or without marks ("dang duc" finds "Đặng Văn Đức"), and
-- free text over names and places, both through word indexes whose cost follows the matches,
-- not the caller's scope.
--
-- Why a table of its own, read through a function: row-level security on `records` lets the
-- planner use only leakproof operators as index conditions (003), and text search's @@ is not
-- leakproof, so a word index on `records` would never serve the service's queries. The words
-- live in record_search instead, which the services' role cannot read at all (row-level
-- security without a policy for it: no rows), and are searched by search_match(), which runs as
-- the owner and applies the same scope rule as records' policy (in_scope and read grants, from
-- the transaction's hoso.scope) before it returns a row: the database still decides what a
-- caller may see, and the service adds its own unit ranges on top (store_search.c). A trigger
-- keeps the table in step with every write of `records` (a record, a bulk import, a unit move).

-- The person's other names (tên gọi khác), as given: the name search matches them like the name.
ALTER TABLE records ADD COLUMN other_names text NOT NULL DEFAULT '';

-- What served the earlier name search (contiguous word prefixes from one of the first three
-- words or the given name; 005) is replaced by record_search below. records_given stays: it is
-- the name order of a list without a name query.
DROP INDEX records_name_s0;
ALTER TABLE records DROP COLUMN name_w2, DROP COLUMN name_w3;

CREATE TABLE record_search (
  record_id    bigint PRIMARY KEY,
  unit_path    public.ltree NOT NULL,        -- the record's managing unit, as in records
  unit_key     text COLLATE "C" NOT NULL,    -- unit_path || '.', for the service's subtree ranges
  name_folded  text COLLATE "C" NOT NULL,
  given_folded text COLLATE "C" NOT NULL,
  birth_date   date,
  names        tsvector NOT NULL,            -- every start of every word of the name ('d', 'da',
                                             -- 'dan', 'dang'); of the other names marked '~'
  words        tsvector NOT NULL             -- every word of search_text (names, places, ...)
);
-- Name queries look up whole entries of `names` (each word typed is one of the starts indexed),
-- so the index intersects posting lists and never expands a prefix into every word that has it
-- (a GIN prefix match, 'dang':*, reads every posting of every such word: 3-10 times slower,
-- measured on 1 M names). Free text keeps whole words (the starts of every word of the places
-- would cost about 90 µs more per record written, measured): its last word alone is a prefix.
CREATE INDEX record_search_names ON record_search USING gin (names);
CREATE INDEX record_search_words ON record_search USING gin (words);
-- A name query reads the sort keys of every match from the table (they rank the matches), one
-- page each where the rows lie scattered: "nguyen anh" is 6 000 people in a million, on as many
-- pages. Rows kept in this order (CLUSTER record_search USING record_search_by_name, after a
-- bulk load: docs/OPERATIONS.md) put most of a query's matches on a few pages (145 instead of
-- 5 400 for that query, measured); the table works the same unclustered, only slower.
CREATE INDEX record_search_by_name ON record_search (given_folded, name_folded);
-- No policy: the services' role (granted its tables by grant_service_role) sees and writes no
-- row; the owner, whose functions below read and write it, is not bound (not FORCEd).
ALTER TABLE record_search ENABLE ROW LEVEL SECURITY;

-- The words of a text as the indexes hold them, in the order written: fold() (lower case, no
-- marks, đ → d), then the runs of letters and digits. The same for the query as for the rows.
CREATE FUNCTION search_words(t text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(w ORDER BY i), '{}')
    FROM unnest(regexp_split_to_array(coalesce(fold(t), ''), '[^[:alnum:]]+')) WITH ORDINALITY AS x(w, i)
   WHERE w <> ''
$$;

-- Every start of every word ('dang' gives 'd', 'da', 'dan', 'dang'), each marked with `mark`.
CREATE FUNCTION search_starts(words text[], mark text) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  w text;
  out text[] := '{}';
BEGIN
  FOREACH w IN ARRAY words LOOP
    FOR k IN 1..length(w) LOOP
      out := out || (mark || left(w, k));
    END LOOP;
  END LOOP;
  RETURN out;
END $$;

CREATE FUNCTION search_names(name_folded text, other_names text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_to_tsvector(search_starts(search_words(name_folded), '')
                           || search_starts(search_words(other_names), '~'))
$$;

-- All the words, each marked with `mark` (and the last a prefix when last_prefix): NULL for none.
CREATE FUNCTION search_tsquery(words text[], mark text, last_prefix boolean) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_agg('''' || mark || w || '''' || CASE WHEN last_prefix AND i = cardinality(words) THEN ':*' ELSE '' END,
                    ' & ' ORDER BY i)::tsquery
    FROM unnest(words) WITH ORDINALITY AS x(w, i)
$$;

-- Kept by every write of records: a statement trigger reads the statement's rows once (a bulk
-- import of 770 records is one insert here, not 770). Runs as the owner (SECURITY DEFINER): the
-- writer's role cannot write record_search itself.
CREATE FUNCTION record_search_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO record_search AS s (record_id, unit_path, unit_key, name_folded, given_folded, birth_date, names, words)
  SELECT n.id, n.unit_path, n.unit_key, n.name_folded, n.given_folded, n.birth_date,
         search_names(n.name_folded, n.other_names), array_to_tsvector(search_words(n.search_text))
    FROM new_rows n
  ON CONFLICT (record_id) DO UPDATE
     SET unit_path = EXCLUDED.unit_path, unit_key = EXCLUDED.unit_key, name_folded = EXCLUDED.name_folded,
         given_folded = EXCLUDED.given_folded, birth_date = EXCLUDED.birth_date, names = EXCLUDED.names,
         words = EXCLUDED.words;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION record_search_sync() FROM PUBLIC;
CREATE TRIGGER record_search_insert AFTER INSERT ON records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_search_sync();
CREATE TRIGGER record_search_update AFTER UPDATE ON records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_search_sync();

-- The records already there (their other names are in search_text, not yet in other_names:
-- until a record is next written its other names are found by free text, not by name).
SELECT set_config('hoso.scope', '*', true);  -- records has row-level security, forced
INSERT INTO record_search (record_id, unit_path, unit_key, name_folded, given_folded, birth_date, names, words)
SELECT id, unit_path, unit_key, name_folded, given_folded, birth_date, search_names(name_folded, other_names),
       array_to_tsvector(search_words(search_text))
  FROM records;

-- The matches of a name query and/or a free-text query (either may be empty, not both) that the
-- transaction's scope may see, exactly as records' read policy (040) decides: a record of a unit
-- in hoso.scope, or one read through a live grant.
--   name: every word typed starts a word of the name (any order), or every one a word of the
--         other names; rank 0 the full name itself, 1 the name's words in the order typed (a
--         LIKE on ' ' || name: cheaper than a regular expression over thousands of matches),
--         2 the rest.
--   text: every word typed is a word of the record's text (search_text), the last one perhaps
--         only its start (still being typed).
-- A query given with no word in it (punctuation only) matches nothing.
CREATE FUNCTION search_match(p_name text, p_text text)
  RETURNS TABLE (record_id bigint, rank smallint, unit_key text, name_folded text, given_folded text,
                 birth_date date)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT ROWS 1000 AS $$
DECLARE
  scope text := coalesce(current_setting('hoso.scope', true), '');
  paths public.ltree[];
  nw text[] := search_words(p_name);
  tw text[] := search_words(p_text);
  exact text := array_to_string(search_words(p_name), ' ');
  pat text;
  cond text := '';
BEGIN
  IF scope = '' OR (cardinality(nw) = 0 AND cardinality(tw) = 0)
     OR (coalesce(p_name, '') <> '' AND cardinality(nw) = 0)
     OR (coalesce(p_text, '') <> '' AND cardinality(tw) = 0) THEN
    RETURN;
  END IF;
  IF scope <> '*' THEN
    paths := array_remove(string_to_array(scope, ','), '')::public.ltree[];
    cond := ' AND (s.unit_path OPERATOR(public.<@) $3 OR s.record_id IN (SELECT granted_records()))';
  END IF;
  IF cardinality(nw) > 0 THEN
    cond := cond || ' AND s.names @@ (search_tsquery($1, '''', false) || search_tsquery($1, ''~'', false))';
    -- in order: each word starts a word of the name that comes after the previous one's (the
    -- words are letters and digits only: nothing in them is special to LIKE)
    pat := '% ' || array_to_string(nw, '% ') || '%';
  END IF;
  IF cardinality(tw) > 0 THEN
    cond := cond || ' AND s.words @@ search_tsquery($2, '''', true)';
  END IF;
  RETURN QUERY EXECUTE
    'SELECT s.record_id, (CASE WHEN $4 IS NULL THEN 0 WHEN s.name_folded = $5 THEN 0 '
    '                         WHEN '' '' || s.name_folded LIKE $4 THEN 1 ELSE 2 END)::smallint, '
    '       s.unit_key::text, s.name_folded::text, s.given_folded::text, s.birth_date '
    '  FROM record_search s WHERE true' || cond
    USING nw, tw, paths, pat, exact;
END $$;
