-- Throttling that slows guessers without locking people out (identity/throttle.h): counters
-- per (address, name) pair ('p'), per name ('u') and per address ('a') for people, per
-- (address, client) pair ('s') for service clients, with delays that grow step by step; and the
-- addresses each name logged in from, where only the pair counter applies.
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_kind_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_kind_check CHECK (kind IN ('u', 'a', 'p', 's'));
-- Locks of the old rule (up to an hour at once) end here; the new counters start afresh.
DELETE FROM login_throttle;

CREATE TABLE login_known (
  name       text NOT NULL,         -- username as typed (lowercased), or svc:<client_id>
  addr       text NOT NULL,
  last_ok_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, addr)
);
