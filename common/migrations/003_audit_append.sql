-- An audit row in one round trip: audit_append locks the chain's head, computes the row's hash
-- and inserts it (the trigger of 002 then moves the head), where the writer used to read the
-- head in one statement and insert in a second. The hash is byte for byte audit_row_hash of
-- common/audit.c: SHA-256 over prev (32 bytes) || seq (8 bytes, big-endian) || for `at` and
-- each field in that order: byte length (4 bytes, big-endian) || the UTF-8 bytes. The verifier
-- stays in C and recomputes every row; tests/integration/test_db.c checks the two agree.
CREATE FUNCTION audit_append(p_chain smallint, p_at text, p_actor_id text, p_actor_name text,
                             p_action text, p_target_type text, p_target_id text,
                             p_unit_path text, p_outcome text, p_client_addr text,
                             p_request_id text, p_detail text) RETURNS bigint
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  h_seq bigint;
  h_hash bytea;
  n_seq bigint;
  msg bytea;
  b bytea;
  f text;
BEGIN
  SELECT seq, hash INTO h_seq, h_hash FROM audit_head WHERE id = p_chain FOR UPDATE;
  IF NOT FOUND OR length(h_hash) <> 32 THEN
    RAISE EXCEPTION 'audit: the head row of chain % is missing or damaged', p_chain;
  END IF;
  n_seq := h_seq + 1;
  msg := h_hash || int8send(n_seq);
  FOREACH f IN ARRAY ARRAY[p_at, p_actor_id, p_actor_name, p_action, p_target_type, p_target_id,
                           p_unit_path, p_outcome, p_client_addr, p_request_id, p_detail] LOOP
    -- a NULL would make the hash NULL; the C side never sends one, so refuse rather than guess
    IF f IS NULL THEN
      RAISE EXCEPTION 'audit: a field of the row is NULL';
    END IF;
    b := convert_to(f, 'UTF8');
    msg := msg || int4send(length(b)) || b;
  END LOOP;
  INSERT INTO audit_log (seq, at, actor_id, actor_name, action, target_type, target_id,
                         unit_path, outcome, client_addr, request_id, detail, prev_hash, hash,
                         chain)
  VALUES (n_seq, p_at, p_actor_id, p_actor_name, p_action, p_target_type, p_target_id,
          p_unit_path, p_outcome, p_client_addr, p_request_id, p_detail, h_hash, sha256(msg),
          p_chain);
  RETURN n_seq;
END $$;
