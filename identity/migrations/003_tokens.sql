-- Signing keys (ES256). The newest key without retired_at signs; retired keys stay published
-- until their last tokens expire (expires_at), so rotation logs nobody out.
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  private_pem text NOT NULL,
  public_pem  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz,
  expires_at  timestamptz
);

-- Refresh tokens: stored as SHA-256, rotated on every use; reuse of a used one revokes the
-- whole family (every token descending from the same login).
CREATE TABLE refresh_tokens (
  token_hash    text PRIMARY KEY,
  family_id     text NOT NULL,
  account_id    bigint NOT NULL REFERENCES accounts(id),
  issued_at     timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  family_expires_at timestamptz NOT NULL,
  used_at       timestamptz,
  revoked_at    timestamptz,
  revoke_reason text NOT NULL DEFAULT ''
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id) WHERE revoked_at IS NULL;

-- Service accounts of other government systems (004 Đ3.3): every connection needs a written
-- approval, and its tokens are limited to the units of its grant.
CREATE TABLE service_clients (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_id          text NOT NULL UNIQUE,
  name               text NOT NULL,
  secret_phc         text NOT NULL,
  unit_ids           bigint[] NOT NULL,
  approval_reference text NOT NULL,
  created_by         text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  revoked_at         timestamptz,
  revoke_reason      text NOT NULL DEFAULT ''
);
