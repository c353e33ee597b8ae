-- The people whose own record an identity account may read as SELF (004 Đ12.2), each link made
-- by LinkPerson with the token of the administrator who linked them, after records saw the
-- record managed inside that administrator's scope. A SELF token whose account and record have
-- no row here reads nothing (records' check_caller): a link made any other way (a row changed
-- in identity's database, an identity that did not ask) is not believed. Rows are kept when an
-- account is linked again elsewhere: an attempt that identity then refuses (the person already
-- has an account) must not cut the person off the link they have.
CREATE TABLE person_links (
  account_id text NOT NULL,
  record_id  bigint NOT NULL REFERENCES records (id),
  linked_by  text NOT NULL,
  linked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, record_id)
);
