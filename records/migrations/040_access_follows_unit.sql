-- Who reads a record is decided on the record as it is now, never on where its past versions
-- were made (003 Đ7.3: the right of access passes to the new unit): after a transfer, a merge
-- or a move the old unit reads nothing of it — current data, versions, attachments — while the
-- versions themselves are kept as they were written. Beside the managing unit, units may read
-- a record for a while through a read grant: the receiving unit while the record is in transit
-- (PENDING_TRANSFER), a host unit during a secondment (biệt phái, 001 Đ7.10) until its end
-- date. Grants are written by the transfers service only (SetManagingUnit, SetReadGrant).

-- Today in Vietnam (UTC+7 all year): the day an end date is judged on.
CREATE FUNCTION hoso_today() RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
$$;

CREATE TABLE read_grants (
  key         text PRIMARY KEY,        -- 'pending:<transfer id>', 'secondment:<transfer id>'
  record_id   bigint NOT NULL REFERENCES records(id),
  kind        smallint NOT NULL CHECK (kind IN (1, 2)),  -- 1 PENDING_TRANSFER, 2 SECONDMENT
  unit_id     bigint NOT NULL,
  unit_path   public.ltree NOT NULL,   -- the unit that reads (and the units above it)
  until       date,                    -- last day it reads (Vietnam); NULL: until ended
  transfer_id text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz              -- ended before its last day (received, cancelled)
);
CREATE INDEX read_grants_record ON read_grants (record_id) WHERE ended_at IS NULL;
ALTER TABLE read_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE read_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY read_grants_scope ON read_grants USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- The records a caller reads through a grant: one list per statement (a hashed subplan), so a
-- search over many rows pays one lookup per row out of scope, not one query. Its names are
-- this schema's whatever the session's search_path (a policy runs in any session).
CREATE FUNCTION granted_records() RETURNS SETOF bigint LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT record_id FROM read_grants
   WHERE ended_at IS NULL AND (until IS NULL OR until >= hoso_today()) AND in_scope(unit_path)
$$;

-- records: read by the managing unit's subtree or a grant; written only within the scope.
DROP POLICY records_scope ON records;
CREATE POLICY records_read ON records FOR SELECT
  USING (in_scope(unit_path) OR id IN (SELECT granted_records()));
CREATE POLICY records_insert ON records FOR INSERT WITH CHECK (in_scope(unit_path));
CREATE POLICY records_update ON records FOR UPDATE USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- Versions and attachments are read when their record is (the records policy above, applied
-- to the subquery), whatever unit_path they were written with.
DROP POLICY record_versions_scope ON record_versions;
CREATE POLICY record_versions_read ON record_versions FOR SELECT
  USING (EXISTS (SELECT 1 FROM records r WHERE r.id = record_id));
CREATE POLICY record_versions_insert ON record_versions FOR INSERT WITH CHECK (in_scope(unit_path));
CREATE POLICY record_versions_update ON record_versions FOR UPDATE
  USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

DROP POLICY attachments_scope ON attachments;
CREATE POLICY attachments_read ON attachments FOR SELECT
  USING (EXISTS (SELECT 1 FROM records r WHERE r.id = record_id));
CREATE POLICY attachments_insert ON attachments FOR INSERT WITH CHECK (in_scope(unit_path));
CREATE POLICY attachments_update ON attachments FOR UPDATE
  USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));
