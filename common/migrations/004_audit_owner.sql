-- The audit log belongs to the role that runs the migrations (the owner of the schema); the
-- services connect as another role that may read it and append to it only through
-- audit_append, which runs as the owner (SECURITY DEFINER, search path pinned). That role
-- cannot disable the triggers, rewrite rows or move a chain's head (docs/SECURITY.md).
ALTER FUNCTION audit_append(smallint, text, text, text, text, text, text, text, text, text, text, text)
  SECURITY DEFINER;
REVOKE ALL ON FUNCTION audit_append(smallint, text, text, text, text, text, text, text, text, text, text, text)
  FROM PUBLIC;

-- When the last signed checkpoint of the chains' heads was written (common/audit_anchor.h):
-- the lease that makes one instance of a service write it, not every instance.
CREATE TABLE audit_checkpoint_state (
  id      int PRIMARY KEY CHECK (id = 1),
  last_at timestamptz NOT NULL DEFAULT 'epoch'  -- never
);
INSERT INTO audit_checkpoint_state (id) VALUES (1);

-- What the services' role is granted, applied by the migrator after every run (new tables
-- included): its own tables, but of the audit log only reading and audit_append.
CREATE FUNCTION grant_service_role(p_role text) RETURNS void LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  s text := current_schema();
  f text := format('%I.audit_append(smallint, text, text, text, text, text, text, text, text, text, text, text)', s);
BEGIN
  -- the owner granting itself would revoke its own rights on the log below
  IF pg_has_role(p_role, current_user, 'MEMBER') THEN
    RAISE EXCEPTION 'the services'' role % is (or acts as) the owner of schema %: give the services a role of their own', p_role, s;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, p_role);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, p_role);
  EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', s, p_role);
  EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %I.audit_log, %I.audit_head, '
                 '%I.schema_migrations FROM %I', s, s, s, p_role);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, p_role);
END $$;
REVOKE ALL ON FUNCTION grant_service_role(text) FROM PUBLIC;
