-- Records' own open steps, for the deadlines the transfers service lists beside its transfer
-- steps (ListDeadlines; SPEC §3's table): a new record after recruitment (until approved), a
-- change decided by the state and a leaving (until the unit approves them), and each
-- declaration awaiting verification (a pending change request). The due dates are computed by
-- the transfers service, which owns the policy and the calendar; records only says what is
-- open and from which dates. The service reads them as a feed (ListRecordSteps): each row
-- carries the transaction id that last wrote it (feed_xid), and a reader takes the rows of transactions
-- below the oldest one still running (pg_snapshot_xmin), so a row committed late is never
-- skipped. A record is in the feed again whenever it is written (a move changes its unit).
CREATE TABLE record_steps (
  record_id      bigint PRIMARY KEY REFERENCES records(id),
  kind           smallint NOT NULL CHECK (kind IN (0, 1, 2, 4)),  -- StepKind; 0 none open
  effective_date date,          -- recruitment, or the decision's effective date
  previous_date  date NOT NULL, -- the day the step opened (the record made, the change entered)
  feed_xid       xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX record_steps_feed ON record_steps (feed_xid);
ALTER TABLE record_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE record_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY record_steps_scope ON record_steps
  USING (EXISTS (SELECT 1 FROM records r WHERE r.id = record_id))
  WITH CHECK (EXISTS (SELECT 1 FROM records r WHERE r.id = record_id));

-- Called by every record write (record_store) in its transaction: k is the step open after the
-- write (0: none). cont says the write continues a step already open (a second change before
-- approval, a move): its kind and dates are kept and the row is in the feed again (its unit
-- may have changed). Otherwise a step opens today, or the open one closes.
CREATE FUNCTION rec_step_note(rid bigint, k smallint, cont boolean, eff date) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
  UPDATE record_steps SET feed_xid = pg_current_xact_id()
   WHERE record_id = rid AND cont AND k <> 0 AND kind <> 0;
  INSERT INTO record_steps AS s (record_id, kind, effective_date, previous_date)
    SELECT rid, k, eff, hoso_today() WHERE k <> 0 AND NOT cont
  ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind, effective_date = excluded.effective_date,
    previous_date = excluded.previous_date, feed_xid = pg_current_xact_id();
  UPDATE record_steps SET kind = 0, effective_date = NULL, feed_xid = pg_current_xact_id()
   WHERE record_id = rid AND k = 0 AND kind <> 0;
$$;

-- Change requests join the feed the same way.
ALTER TABLE change_requests ADD COLUMN feed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX change_requests_feed ON change_requests (feed_xid);
CREATE FUNCTION change_requests_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.feed_xid := pg_current_xact_id();
  RETURN NEW;
END
$$;
CREATE TRIGGER change_requests_feed BEFORE UPDATE ON change_requests
  FOR EACH ROW EXECUTE FUNCTION change_requests_feed();
