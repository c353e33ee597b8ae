-- Transfers of records between units, with every step, the scans they rest on, the notices of
-- each side's inbox and the outbox of moves records must make. Nothing here is deleted but the
-- outbox's delivered rows' payloads and the deadlines index of open steps (its history is in
-- transfer_steps). Row-level security: a unit sees the transfers it sends, receives or will
-- use the person in, and those of the units below it.
CREATE SEQUENCE transfers_id_seq START 700001;

CREATE TABLE transfers (
  id             bigint PRIMARY KEY DEFAULT nextval('transfers_id_seq'),
  record_id      bigint NOT NULL,
  record_name    text NOT NULL,
  kind           smallint NOT NULL CHECK (kind BETWEEN 1 AND 6),   -- TransferKind
  state          smallint NOT NULL CHECK (state BETWEEN 1 AND 13), -- TransferState
  from_unit_id   bigint NOT NULL,
  from_path      public.ltree NOT NULL,
  to_unit_id     bigint,
  to_path        public.ltree,
  final_unit_id  bigint,
  final_path     public.ltree,
  decision_number text NOT NULL DEFAULT '',
  decision_date  date,
  effective_date date,
  decision_issuer text NOT NULL DEFAULT '',
  destination    text NOT NULL DEFAULT '',
  start_date     date,
  end_date       date,
  note           text NOT NULL DEFAULT '',
  version        bigint NOT NULL DEFAULT 1,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- the open step's due date, copied for lists ('infinity' when none is open or it has none)
  due_date       date NOT NULL DEFAULT 'infinity',
  -- the moves of this transfer that records has confirmed (the outbox's rows done)
  undelivered    integer NOT NULL DEFAULT 0 CHECK (undelivered >= 0),
  delivery_error text NOT NULL DEFAULT '',
  package_sha256 text NOT NULL DEFAULT '',
  new_record_id  bigint,
  alerted        boolean NOT NULL DEFAULT false   -- a secondment's end alert was posted
);
-- A record has one open transfer at a time (REQUESTED, STARTED, SENT, RECEIVED, FORWARDED, SECONDED).
CREATE UNIQUE INDEX transfers_one_open ON transfers (record_id) WHERE state IN (1, 3, 4, 5, 6, 10);
CREATE INDEX transfers_record ON transfers (record_id, id);
CREATE INDEX transfers_list ON transfers (due_date, id);
CREATE INDEX transfers_from ON transfers USING gist (from_path);
CREATE INDEX transfers_to ON transfers USING gist (to_path);
CREATE INDEX transfers_final ON transfers USING gist (final_path);
CREATE INDEX transfers_seconded ON transfers (end_date) WHERE state = 10;

ALTER TABLE transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY transfers_scope ON transfers
  USING (in_scope(from_path) OR (to_path IS NOT NULL AND in_scope(to_path))
         OR (final_path IS NOT NULL AND in_scope(final_path)))
  WITH CHECK (in_scope(from_path) OR (to_path IS NOT NULL AND in_scope(to_path))
              OR (final_path IS NOT NULL AND in_scope(final_path)));

-- Each step: whose work (unit), from when the allowance counts, due, done by whom, why.
CREATE TABLE transfer_steps (
  transfer_id   bigint NOT NULL REFERENCES transfers(id),
  seq           smallint NOT NULL,
  kind          smallint NOT NULL CHECK (kind BETWEEN 1 AND 11),  -- StepKind
  unit_id       bigint NOT NULL,
  unit_path     public.ltree NOT NULL,
  opened_at     timestamptz NOT NULL DEFAULT now(),
  effective_date date,          -- the decision's effective date
  previous_date date NOT NULL,  -- the day the previous step was done (or the transfer opened)
  due_date      date,
  due_estimated boolean NOT NULL DEFAULT false,
  done_at       timestamptz,
  outcome       text NOT NULL DEFAULT '',
  done_by       text NOT NULL DEFAULT '',
  done_by_name  text NOT NULL DEFAULT '',
  reason        text NOT NULL DEFAULT '',
  PRIMARY KEY (transfer_id, seq)
);
ALTER TABLE transfer_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE transfer_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_steps_scope ON transfer_steps
  USING (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id))
  WITH CHECK (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id));

-- The scans: a decision (001 Đ10.2), a pull's request letter (002 Đ10).
CREATE SEQUENCE documents_id_seq START 9001;
CREATE TABLE documents (
  id           bigint PRIMARY KEY DEFAULT nextval('documents_id_seq'),
  transfer_id  bigint NOT NULL REFERENCES transfers(id),
  kind         text NOT NULL CHECK (kind IN ('DECISION', 'REQUEST_LETTER')),
  file_name    text NOT NULL,
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  size         bigint NOT NULL CHECK (size > 0),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  content      bytea NOT NULL,
  uploaded_by  text NOT NULL,
  uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_transfer ON documents (transfer_id, id);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_scope ON documents
  USING (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id))
  WITH CHECK (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id));

-- A unit's inbox: what the other side did.
CREATE TABLE notices (
  id          bigserial PRIMARY KEY,
  unit_id     bigint NOT NULL,
  unit_path   public.ltree NOT NULL,
  transfer_id bigint NOT NULL REFERENCES transfers(id),
  record_id   bigint NOT NULL,
  kind        text NOT NULL,
  text        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notices_unit ON notices (unit_id, id);
CREATE INDEX notices_path ON notices USING gist (unit_path);
ALTER TABLE notices ENABLE ROW LEVEL SECURITY;
ALTER TABLE notices FORCE ROW LEVEL SECURITY;
CREATE POLICY notices_scope ON notices USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- The transactional outbox (GUIDE "Across services"): a move records must make, written in the
-- transaction of the state change, delivered (records' SetManagingUnit / SetReadGrant, keyed by
-- the transfer) until records confirms, in order per record. Rows of one record are delivered
-- one after the other; a refusal records cannot get over ends the row with its message.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  transfer_id     bigint NOT NULL REFERENCES transfers(id),
  record_id       bigint NOT NULL,
  method          text NOT NULL,
  request         bytea NOT NULL,               -- the packed request
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text NOT NULL DEFAULT '',
  done_at         timestamptz,
  refused         boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_pending ON outbox (record_id, id) WHERE done_at IS NULL;
CREATE INDEX outbox_transfer ON outbox (transfer_id, id);
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY outbox_scope ON outbox
  USING (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id))
  WITH CHECK (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id));

-- The package made for an OUT_OF_SYSTEM transfer: asked again, the same bytes.
CREATE TABLE packages (
  transfer_id bigint PRIMARY KEY REFERENCES transfers(id),
  sha256      text NOT NULL,
  content     bytea NOT NULL,
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE packages ENABLE ROW LEVEL SECURITY;
ALTER TABLE packages FORCE ROW LEVEL SECURITY;
CREATE POLICY packages_scope ON packages
  USING (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id))
  WITH CHECK (EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_id));
