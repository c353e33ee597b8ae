-- Audit rows appended in batches (common/audit_batch.c): the rows of reads made at the same
-- time go in with one call of audit_append_batch, which locks the chain's head once, hashes the
-- rows in order, inserts them in one statement and moves the head once; the batch's commit is
-- one WAL flush for all of them. audit_append (one row, in the caller's transaction) stays.
--
-- The head used to be moved by a row trigger, one UPDATE per row. Both append functions now
-- move it themselves (they hold its lock), and what guarded direct inserts becomes a check once
-- per statement: every new row continues the row before it in its chain (the rows of the same
-- statement included). The head itself only moves forward, to a row that is there with that
-- hash. Nothing but these SECURITY DEFINER functions may insert (004); the checks stand for
-- whoever owns the tables and forgets, and the verifier (common/audit.c) for the rest.

DROP TRIGGER audit_log_append ON audit_log;
DROP FUNCTION audit_log_append();

CREATE FUNCTION audit_log_continues() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.chain, n.seq INTO bad
    FROM new_rows n
    LEFT JOIN audit_log p ON p.chain = n.chain AND p.seq = n.seq - 1
   WHERE n.prev_hash IS DISTINCT FROM
         (CASE WHEN n.seq = 1 THEN decode(repeat('00', 32), 'hex') ELSE p.hash END)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'audit_log row %/% does not continue its chain', bad.chain, bad.seq;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER audit_log_continues AFTER INSERT ON audit_log
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_log_continues();

CREATE OR REPLACE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_head cannot be deleted' USING ERRCODE = '42501';
  END IF;
  IF NEW.id <> OLD.id OR NEW.seq <= OLD.seq
     OR NOT EXISTS (SELECT 1 FROM audit_log WHERE chain = NEW.id AND seq = NEW.seq AND hash = NEW.hash) THEN
    RAISE EXCEPTION 'audit_head only moves forward, to a row of its chain' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

-- The hash of one row, byte for byte audit_row_hash of common/audit.c (see 003).
CREATE FUNCTION audit_row_hash(p_prev bytea, p_seq bigint, p_fields text[]) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  msg bytea := p_prev || int8send(p_seq);
  b bytea;
  f text;
BEGIN
  FOREACH f IN ARRAY p_fields LOOP
    -- a NULL would make the hash NULL; the C side never sends one, so refuse rather than guess
    IF f IS NULL THEN
      RAISE EXCEPTION 'audit: a field of the row is NULL';
    END IF;
    b := convert_to(f, 'UTF8');
    msg := msg || int4send(length(b)) || b;
  END LOOP;
  RETURN sha256(msg);
END $$;

CREATE OR REPLACE FUNCTION audit_append(p_chain smallint, p_at text, p_actor_id text, p_actor_name text,
                                        p_action text, p_target_type text, p_target_id text,
                                        p_unit_path text, p_outcome text, p_client_addr text,
                                        p_request_id text, p_detail text) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  h_seq bigint;
  h_hash bytea;
  n_hash bytea;
BEGIN
  SELECT seq, hash INTO h_seq, h_hash FROM audit_head WHERE id = p_chain FOR UPDATE;
  IF NOT FOUND OR length(h_hash) <> 32 THEN
    RAISE EXCEPTION 'audit: the head row of chain % is missing or damaged', p_chain;
  END IF;
  n_hash := audit_row_hash(h_hash, h_seq + 1,
                           ARRAY[p_at, p_actor_id, p_actor_name, p_action, p_target_type, p_target_id,
                                 p_unit_path, p_outcome, p_client_addr, p_request_id, p_detail]);
  INSERT INTO audit_log (seq, at, actor_id, actor_name, action, target_type, target_id,
                         unit_path, outcome, client_addr, request_id, detail, prev_hash, hash,
                         chain)
  VALUES (h_seq + 1, p_at, p_actor_id, p_actor_name, p_action, p_target_type, p_target_id,
          p_unit_path, p_outcome, p_client_addr, p_request_id, p_detail, h_hash, n_hash, p_chain);
  UPDATE audit_head SET seq = h_seq + 1, hash = n_hash WHERE id = p_chain;
  RETURN h_seq + 1;
END $$;

-- p_rows: a JSON array of objects with the eleven fields as strings, in the order they are to be
-- chained ({"at":..., "actor_id":..., ..., "detail":"{...}"}). Returns the chain's new last seq.
CREATE FUNCTION audit_append_batch(p_chain smallint, p_rows json) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  h_seq bigint;
  prev bytea;
  r record;
  n int := 0;
  seqs bigint[] := '{}';
  prevs bytea[] := '{}';
  hashes bytea[] := '{}';
BEGIN
  SELECT seq, hash INTO h_seq, prev FROM audit_head WHERE id = p_chain FOR UPDATE;
  IF NOT FOUND OR length(prev) <> 32 THEN
    RAISE EXCEPTION 'audit: the head row of chain % is missing or damaged', p_chain;
  END IF;
  FOR r IN SELECT * FROM json_to_recordset(p_rows) AS x(at text, actor_id text, actor_name text, action text,
                                                         target_type text, target_id text, unit_path text,
                                                         outcome text, client_addr text, request_id text,
                                                         detail text) LOOP
    n := n + 1;
    seqs := seqs || (h_seq + n);
    prevs := prevs || prev;
    prev := audit_row_hash(prev, h_seq + n,
                           ARRAY[r.at, r.actor_id, r.actor_name, r.action, r.target_type, r.target_id,
                                 r.unit_path, r.outcome, r.client_addr, r.request_id, r.detail]);
    hashes := hashes || prev;
  END LOOP;
  IF n = 0 THEN
    RETURN h_seq;
  END IF;
  INSERT INTO audit_log (chain, seq, at, actor_id, actor_name, action, target_type, target_id, unit_path,
                         outcome, client_addr, request_id, detail, prev_hash, hash)
  SELECT p_chain, seqs[x.i], x.at, x.actor_id, x.actor_name, x.action, x.target_type, x.target_id, x.unit_path,
         x.outcome, x.client_addr, x.request_id, x.detail, prevs[x.i], hashes[x.i]
    FROM ROWS FROM (json_to_recordset(p_rows) AS (at text, actor_id text, actor_name text, action text,
                                                  target_type text, target_id text, unit_path text,
                                                  outcome text, client_addr text, request_id text,
                                                  detail text))
         WITH ORDINALITY AS x(at, actor_id, actor_name, action, target_type, target_id, unit_path, outcome,
                              client_addr, request_id, detail, i);
  UPDATE audit_head SET seq = h_seq + n, hash = prev WHERE id = p_chain;
  RETURN h_seq + n;
END $$;
REVOKE ALL ON FUNCTION audit_append_batch(smallint, json) FROM PUBLIC;

-- The services' role may call both append functions (004's grants, and this one).
CREATE OR REPLACE FUNCTION grant_service_role(p_role text) RETURNS void LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  s text := current_schema();
  f text := format('%I.audit_append(smallint, text, text, text, text, text, text, text, text, text, text, text)', s);
  fb text := format('%I.audit_append_batch(smallint, json)', s);
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
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', fb, p_role);
END $$;
REVOKE ALL ON FUNCTION grant_service_role(text) FROM PUBLIC;
