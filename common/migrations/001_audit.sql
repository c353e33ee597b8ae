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

-- Row-level security helper: is an ltree path inside the caller's scope? The scope is the
-- transaction-local setting hoso.scope set by db_tx: '*' or comma separated paths.
CREATE FUNCTION in_scope(p public.ltree) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN coalesce(current_setting('hoso.scope', true), '') = '' THEN false
    WHEN current_setting('hoso.scope', true) = '*' THEN true
    ELSE p OPERATOR(public.<@) ANY (string_to_array(current_setting('hoso.scope', true), ',')::public.ltree[])
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
