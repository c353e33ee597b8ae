-- Access tokens end when the account changes, not 15 minutes later. Every token carries its
-- subject's generation ("gen" claim); a change that must end the sessions of an account —
-- disabled, revoked, roles changed, moved to another unit (or its unit moved), linked to
-- another record, password reset or changed — raises the generation and publishes a
-- revocation: "tokens of this subject below generation N are void". Every service reads the
-- revocations (ListTokenRevocations) a few seconds apart and refuses such tokens; a new login
-- signs with the new generation, so it is unaffected.
ALTER TABLE accounts ADD COLUMN token_gen bigint NOT NULL DEFAULT 0;
ALTER TABLE service_clients ADD COLUMN token_gen bigint NOT NULL DEFAULT 0;

-- subject is the token's "sub": the account id, or "svc:<client_id>". No row-level security:
-- like a certificate revocation list it is published to every service, and it holds numbers
-- only (no name, no unit).
CREATE TABLE token_revocations (
  seq      bigint PRIMARY KEY CHECK (seq >= 1),
  subject  text NOT NULL,
  min_gen  bigint NOT NULL,                -- tokens of subject with gen < min_gen are void
  reason   text NOT NULL DEFAULT '',
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_revocations_at ON token_revocations (at);

-- seq is handed out by one counter row: a writer holds its row lock until commit, so the next
-- writer numbers after it. Numbers therefore have no gaps (a rolled-back change returns its
-- number) and commit in order: a reader that has seen N never later finds a revocation below N.
-- The number is taken at commit (deferred triggers below): by then the transaction holds every
-- row it will lock, so waiting for the counter cannot close a cycle with another writer, and
-- the counter is held only for the commit itself.
CREATE TABLE token_revocation_seq (one boolean PRIMARY KEY DEFAULT true CHECK (one), last bigint NOT NULL);
INSERT INTO token_revocation_seq (last) VALUES (0);

CREATE FUNCTION revoke_tokens(p_subject text, p_min_gen bigint, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  UPDATE token_revocation_seq SET last = last + 1 RETURNING last INTO n;
  INSERT INTO token_revocations (seq, subject, min_gen, reason) VALUES (n, p_subject, p_min_gen, p_reason);
END $$;

-- The rule lives next to the data, so no code path that changes an account can forget it
-- (DisableAccount, RevokeAccount, UpdateAccountRoles, ResetPassword, ChangePassword, MoveUnit
-- re-filing accounts, MergeUnits revoking them, and whatever comes later). The generation is
-- raised at once, so a token signed later in the same transaction (ChangePassword's) already
-- carries the new one.
CREATE FUNCTION accounts_why_cut(o accounts, n accounts) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws(', ',
    CASE WHEN n.status IS DISTINCT FROM o.status THEN 'status' END,
    CASE WHEN n.roles IS DISTINCT FROM o.roles THEN 'roles' END,
    CASE WHEN n.unit_id IS DISTINCT FROM o.unit_id OR n.unit_path IS DISTINCT FROM o.unit_path THEN 'unit' END,
    CASE WHEN n.person_record_id IS DISTINCT FROM o.person_record_id THEN 'record' END,
    CASE WHEN n.password_phc IS DISTINCT FROM o.password_phc THEN 'password' END)
$$;

CREATE FUNCTION accounts_raise_gen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF accounts_why_cut(OLD, NEW) <> '' THEN NEW.token_gen := OLD.token_gen + 1; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_raise_gen BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_raise_gen();

CREATE FUNCTION accounts_publish_cut() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM revoke_tokens(NEW.id::text, NEW.token_gen, 'account changed: ' || accounts_why_cut(OLD, NEW));
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER accounts_publish_cut AFTER UPDATE ON accounts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.token_gen <> OLD.token_gen) EXECUTE FUNCTION accounts_publish_cut();

CREATE FUNCTION service_clients_raise_gen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL) OR NEW.unit_ids IS DISTINCT FROM OLD.unit_ids
     OR NEW.secret_phc IS DISTINCT FROM OLD.secret_phc THEN
    NEW.token_gen := OLD.token_gen + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER service_clients_raise_gen BEFORE UPDATE ON service_clients
  FOR EACH ROW EXECUTE FUNCTION service_clients_raise_gen();

CREATE FUNCTION service_clients_publish_cut() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM revoke_tokens('svc:' || NEW.client_id, NEW.token_gen,
                        CASE WHEN NEW.revoked_at IS NOT NULL THEN 'service client revoked'
                             ELSE 'service client changed' END);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER service_clients_publish_cut AFTER UPDATE ON service_clients
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.token_gen <> OLD.token_gen) EXECUTE FUNCTION service_clients_publish_cut();
