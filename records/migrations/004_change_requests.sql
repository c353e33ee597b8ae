-- Changes declared by the person (phiếu bổ sung lý lịch, 001 Đ9.2a): a pending proposal the
-- managing unit verifies (approves or rejects) within one working day. Never deleted.
CREATE SEQUENCE change_requests_id_seq START 1001;

-- The verification deadline of 001 Đ9.2a ("trong 01 ngày làm việc"): the end (23:59:59,
-- Vietnam time, UTC+7 all year) of the first working day after the day the request was
-- made; Saturdays and Sundays are not working days. Public holidays are not counted yet: the
-- holiday calendar (data, per year) belongs to the transfers service, and this function is
-- the one place to consult it once that service exists.
CREATE FUNCTION change_request_due(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT ((day + 1)::timestamp - interval '7 hours 1 second') AT TIME ZONE 'UTC'
    FROM (SELECT ((t AT TIME ZONE 'UTC') + interval '7 hours')::date + k AS day
            FROM generate_series(1, 3) AS k) AS next_days
   WHERE extract(isodow FROM day) < 6
   ORDER BY day LIMIT 1
$$;

CREATE TABLE change_requests (
  id              bigint PRIMARY KEY DEFAULT nextval('change_requests_id_seq'),
  record_id       bigint NOT NULL REFERENCES records(id),
  -- The record's managing unit, kept equal to records.unit_path (SetManagingUnit moves a
  -- record's requests with it): the unit that verifies it, and the row-level security key.
  unit_path       public.ltree NOT NULL,
  state           smallint NOT NULL DEFAULT 1,   -- ChangeRequestState: 1 pending, 2 approved, 3 rejected
  base_version    bigint NOT NULL,
  note            text NOT NULL DEFAULT '',      -- the person's explanation (NFC)
  submitted_by    text NOT NULL,                 -- account id of the SELF account
  submitted_at    timestamptz NOT NULL DEFAULT now(),
  due_at          timestamptz NOT NULL DEFAULT change_request_due(now()),
  decided_by      text NOT NULL DEFAULT '',
  decided_at      timestamptz,
  decision_reason text NOT NULL DEFAULT '',
  applied_version bigint,                        -- the record version an approval made
  -- The proto3 JSON of a hoso.records.v1.ChangeRequest holding `proposed` and `changes` (the
  -- field diff against the base), and of the Record at base_version: an approval after the
  -- record changed merges the three (rpc_change_requests.c).
  proposal        jsonb NOT NULL,
  base            jsonb NOT NULL,
  CHECK (state BETWEEN 1 AND 3),
  CHECK ((state = 1) = (decided_at IS NULL)),
  CHECK (base_version >= 1)
);
-- ListChangeRequests pages by id; a record's requests and the pending queue have their own.
-- (Subtree filters use ltree's <@, which is not leakproof and so never an index condition
-- under row-level security, see 003: they filter the rows the id order brings.)
CREATE INDEX change_requests_record ON change_requests (record_id, id);
CREATE INDEX change_requests_pending ON change_requests (id) WHERE state = 1;

ALTER TABLE change_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY change_requests_scope ON change_requests
  USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));
