-- One person, one account (003 Đ5.3): at most one account that is not revoked per
-- person record. A revoked account frees the person for the account of a new job; a disabled
-- one does not, since it can be enabled again. Enforced here so two concurrent CreateAccount
-- calls cannot both pass the service's own check.
CREATE UNIQUE INDEX accounts_person_record_key ON accounts (person_record_id)
  WHERE person_record_id <> '' AND status IN (1, 2);
