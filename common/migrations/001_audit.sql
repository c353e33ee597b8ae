-- Every service schema gets these (applied with search_path = <schema>, public).
-- The audit log: append-only, each row chained by SHA-256 to the previous one (common/audit.c).
CREATE TABLE audit_log (
  seq         bigint PRIMARY KEY,
  at          text NOT NULL,              -- RFC 3339 UTC, exactly as hashed
  actor_id    text NOT NULL DEFAULT '',
  actor_name  text NOT NULL DEFAULT '',
  action      text NOT NULL,
  target_type text NOT NULL DEFAULT '',
  target_id   text NOT NULL DEFAULT '',
  unit_path   text NOT NULL DEFAULT '',
  outcome     text NOT NULL DEFAULT 'ok',
  client_addr text NOT NULL DEFAULT '',
  request_id  text NOT NULL DEFAULT '',
  detail      text NOT NULL DEFAULT '{}', -- JSON object, kept as written (hashed as text)
  prev_hash   bytea NOT NULL,
  hash        bytea NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

-- Append-only: no UPDATE, DELETE or TRUNCATE through any role that goes through these rules.
CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- The head of the chain: the last row's seq and hash (seq 0 and 32 zero bytes while empty).
-- audit_write reads it FOR UPDATE, which makes writers take turns and, under REPEATABLE READ
-- or SERIALIZABLE, turns a stale view of the chain into a serialization failure that db_tx
-- retries (a plain "read the last row" would instead collide on the primary key). The
-- verifier compares it with the last row, so rows cut off the end of the log are noticed.
CREATE TABLE audit_head (
  id   int PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash bytea NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Every new row must continue the chain exactly where the head is, and moves the head.
-- search_path is pinned to this schema: the trigger may fire from a session whose path differs.
CREATE FUNCTION audit_log_append() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash
   WHERE id = 1 AND seq = NEW.seq - 1 AND hash = NEW.prev_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_log row % does not continue the chain', NEW.seq;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER audit_log_append AFTER INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append();

CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = '42501';
  END IF;
  IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
    RAISE EXCEPTION 'audit_head only moves forward one row at a time' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION audit_head_forward();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

-- Row-level security helper: is an ltree path inside the caller's scope? The scope is the
-- transaction-local setting hoso.scope set by db_tx: '*' or comma separated paths. Empty
-- elements are dropped: '' as an ltree is the root of everything and would grant it all.
CREATE FUNCTION in_scope(p public.ltree) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN coalesce(current_setting('hoso.scope', true), '') = '' THEN false
    WHEN current_setting('hoso.scope', true) = '*' THEN true
    ELSE p OPERATOR(public.<@) ANY (array_remove(string_to_array(current_setting('hoso.scope', true), ','), '')::public.ltree[])
  END
$$;

-- Idempotency keys of mutating RPCs (common/idem.h): a repeated request_id of the same actor
-- and method returns the first result.
CREATE TABLE idempotency (
  actor_id   text NOT NULL,
  method     text NOT NULL,
  request_id text NOT NULL,
  target_id  text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (actor_id, method, request_id)
);
