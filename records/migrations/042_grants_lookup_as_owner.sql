-- The records policy (040) looks read grants up through granted_records(). A role that reads
-- records only through the published views (hoso_report, 031: the versions' policy consults
-- records') has no right on read_grants and is given none. The lookup runs as the schema's
-- owner instead; read_grants forces row-level security on its owner too, so it still returns
-- only the grants inside the caller's scope (hoso.scope), whoever calls it.
ALTER FUNCTION granted_records() SECURITY DEFINER;
