-- Scanned decisions and documents attached to a record (PDF, JPEG, PNG; type from the content),
-- each with its SHA-256. Never deleted; the content is kept apart so listing never reads it.
CREATE SEQUENCE attachments_id_seq START 5001;

CREATE TABLE attachments (
  id           bigint PRIMARY KEY DEFAULT nextval('attachments_id_seq'),
  record_id    bigint NOT NULL REFERENCES records(id),
  -- The record's managing unit when uploaded: the row-level security key.
  unit_path    public.ltree NOT NULL,
  file_name    text NOT NULL,
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  size         bigint NOT NULL CHECK (size > 0 AND size <= 20971520),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  description  text NOT NULL DEFAULT '',
  uploaded_by  text NOT NULL,
  uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_record ON attachments (record_id, id);

ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY attachments_scope ON attachments USING (in_scope(unit_path)) WITH CHECK (in_scope(unit_path));

-- The bytes, one row per attachment; readable only through a visible attachments row.
CREATE TABLE attachment_contents (
  attachment_id bigint PRIMARY KEY REFERENCES attachments(id),
  content       bytea NOT NULL
);
ALTER TABLE attachment_contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachment_contents FORCE ROW LEVEL SECURITY;
CREATE POLICY attachment_contents_scope ON attachment_contents
  USING (EXISTS (SELECT 1 FROM attachments a WHERE a.id = attachment_id))
  WITH CHECK (EXISTS (SELECT 1 FROM attachments a WHERE a.id = attachment_id));
