-- Token-signing private keys sealed with a key kept outside the database (identity/key_seal.h):
-- new keys are stored only as private_sealed; a key stored in the clear by an older identity
-- is sealed at the next start with HOSO_KEY_ENCRYPTION_KEY (and a new key then signs).
-- private_pem stays only in the development mode HOSO_INSECURE_DEV=1.
ALTER TABLE signing_keys ALTER COLUMN private_pem DROP NOT NULL;
ALTER TABLE signing_keys ADD COLUMN private_sealed text;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_private_kept
  CHECK (private_pem IS NOT NULL OR private_sealed IS NOT NULL);
