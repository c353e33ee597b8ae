-- The months in which each account logged in (Vietnam's calendar): the "accounts in use" of the
-- semi-annual report on record management (000 Đ13, 001 Đ13), counted by CountAccountUse for
-- the reporting service. One row per account and month, written by a successful login; the
-- months before this table are known only from each account's last login.
CREATE TABLE account_use (
  account_id bigint NOT NULL REFERENCES accounts(id),
  month      date NOT NULL CHECK (extract(day FROM month) = 1),
  PRIMARY KEY (account_id, month)
);
INSERT INTO account_use (account_id, month)
  SELECT id, date_trunc('month', last_login_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
    FROM accounts WHERE last_login_at IS NOT NULL;
ALTER TABLE account_use ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_use FORCE ROW LEVEL SECURITY;
CREATE POLICY account_use_scope ON account_use
  USING (EXISTS (SELECT 1 FROM accounts a WHERE a.id = account_id))
  WITH CHECK (EXISTS (SELECT 1 FROM accounts a WHERE a.id = account_id));
