-- A person's supporting documents (phiếu bổ sung lý lịch, 001 Đ9.2a: the papers that prove a
-- declared change): an attachment may belong to one of the record's change requests. It is
-- filed like every attachment of the record (unit_path: the managing unit, which verifies the
-- request and reads it; it follows the record when it moves) and is never deleted.
ALTER TABLE attachments ADD COLUMN change_request_id bigint REFERENCES change_requests(id);
CREATE INDEX attachments_change_request ON attachments (change_request_id) WHERE change_request_id IS NOT NULL;
