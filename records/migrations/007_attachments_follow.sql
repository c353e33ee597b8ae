-- Attachments belong to their record: when the record moves to another managing unit
-- (SetManagingUnit), they move with it in the same statement, so row-level security follows.
CREATE FUNCTION attachments_follow_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE attachments SET unit_path = NEW.unit_path WHERE record_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER attachments_follow_record AFTER UPDATE OF unit_path ON records
  FOR EACH ROW WHEN (OLD.unit_path IS DISTINCT FROM NEW.unit_path)
  EXECUTE FUNCTION attachments_follow_record();
