-- rec_step_note (041) as PL/pgSQL: a SQL function of several statements is parsed and planned
-- again on every call (its plans live for one query), and with row-level security on
-- record_steps (a policy reading records, itself under its policy) that was 3.6 ms of
-- PostgreSQL per record write (pg_stat_statements, the transfers bench: 7.4 ms of the 22 ms
-- per transfer). PL/pgSQL keeps the plans for the session. Same statements, same effect.
CREATE OR REPLACE FUNCTION rec_step_note(rid bigint, k smallint, cont boolean, eff date) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF k <> 0 AND cont THEN
    UPDATE record_steps SET feed_xid = pg_current_xact_id() WHERE record_id = rid AND kind <> 0;
  ELSIF k <> 0 THEN
    INSERT INTO record_steps AS s (record_id, kind, effective_date, previous_date)
      VALUES (rid, k, eff, hoso_today())
    ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, effective_date = excluded.effective_date,
      previous_date = excluded.previous_date, feed_xid = pg_current_xact_id();
  ELSE
    UPDATE record_steps SET kind = 0, effective_date = NULL, feed_xid = pg_current_xact_id()
     WHERE record_id = rid AND kind <> 0;
  END IF;
END
$$;
