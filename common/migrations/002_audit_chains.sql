-- The audit log becomes 16 independent hash chains (chain 1 holds every row written before).
-- One chain serialized every audited transaction of a service on one row lock, commit
-- included; with a chain per connection, reads that are audited (every record read) run in
-- parallel. Each chain is verified on its own, and each has its own head row.
ALTER TABLE audit_log ADD COLUMN chain smallint NOT NULL DEFAULT 1 CHECK (chain BETWEEN 1 AND 16);
ALTER TABLE audit_log ALTER COLUMN chain DROP DEFAULT;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (chain, seq);

ALTER TABLE audit_head DROP CONSTRAINT audit_head_id_check;
ALTER TABLE audit_head ADD CONSTRAINT audit_head_chain_check CHECK (id BETWEEN 1 AND 16);
INSERT INTO audit_head (id, seq, hash)
  SELECT g, 0, decode(repeat('00', 32), 'hex') FROM generate_series(2, 16) g;

CREATE OR REPLACE FUNCTION audit_log_append() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash
   WHERE id = NEW.chain AND seq = NEW.seq - 1 AND hash = NEW.prev_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_log row %/% does not continue its chain', NEW.chain, NEW.seq;
  END IF;
  RETURN NULL;
END $$;
