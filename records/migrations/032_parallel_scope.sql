-- The row-level security helper may run in parallel workers: it reads only the transaction's
-- hoso.scope setting, which PostgreSQL hands to every worker with the other settings. Without
-- this a policy calling it keeps every query on its table in one process, and a report over a
-- province's facts (a scan and 38 aggregates) takes twice as long on two cores
-- (docs/BENCHMARKS.md, reporting).
ALTER FUNCTION in_scope(public.ltree) PARALLEL SAFE;
