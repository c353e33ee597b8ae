-- Free text whose last word is still being typed: that word is a prefix ('hoa' for "Hòa",
-- "Hoài", "Hoàng", ...), and a GIN prefix match reads the posting list of every word that has
-- it before the words typed in full narrow anything: 'pham & cong & phuc & hoa:*' took 195 ms
-- in the index on 1 M records (218 matches), where the three whole words alone took 4.5 ms and
-- 256 rows. So with more than one word the index is asked for the whole words only, and the
-- prefix is checked on the rows they give; a query of one word still goes to the index as a
-- prefix (nothing else narrows it). The matches are the same (search_match of 020 otherwise
-- unchanged; its comment there says what it returns).
CREATE OR REPLACE FUNCTION search_match(p_name text, p_text text)
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
  IF cardinality(tw) > 1 THEN
    -- the whole words through the index; the last one, a prefix, only on the rows they give
    -- (ts_match_vq is @@ under another name, which the planner does not take to the index)
    cond := cond || ' AND s.words @@ search_tsquery($2[1:cardinality($2) - 1], '''', false)'
                 || ' AND ts_match_vq(s.words, search_tsquery($2, '''', true))';
  ELSIF cardinality(tw) = 1 THEN
    cond := cond || ' AND s.words @@ search_tsquery($2, '''', true)';
  END IF;
  RETURN QUERY EXECUTE
    'SELECT s.record_id, (CASE WHEN $4 IS NULL THEN 0 WHEN s.name_folded = $5 THEN 0 '
    '                         WHEN '' '' || s.name_folded LIKE $4 THEN 1 ELSE 2 END)::smallint, '
    '       s.unit_key::text, s.name_folded::text, s.given_folded::text, s.birth_date '
    '  FROM record_search s WHERE true' || cond
    USING nw, tw, paths, pat, exact;
END $$;
