-- An undelivered outbox row can be rewritten: a merge gives what a dissolved unit had to its
-- successor, and a step queued before the merge that names the dissolved unit is re-targeted
-- to the successor (outbox.c, outbox_give_unit). rev counts the rewrites, so that a deliverer
-- that sent the row as it was before marks nothing: the row goes again as it is now.
ALTER TABLE outbox ADD COLUMN rev integer NOT NULL DEFAULT 0;
