-- SearchRecords' indexes on the copied columns of 001. Row-level security on records lets the
-- planner turn only leakproof operators into index conditions (btree =, <, >, <=, >= on text,
-- dates, numbers); LIKE, regular expressions, pg_trgm and ltree's <@ are not leakproof, so a
-- GIN trigram or GiST index is never used by the service's queries. Every search condition is
-- therefore a btree range: name prefixes in the "C" collation (byte order, so a prefix is one
-- contiguous range), unit subtrees as a text prefix of unit_key (005), codes by equality.

-- 001's GiST index on unit_path can serve no query of the service for the reason above, and it
-- was the dearest index to keep up (about 10 µs per inserted row, measured); unit_key (005)
-- replaces it.
DROP INDEX records_unit_path;

-- The name indexes are in 005, next to the columns they carry.

-- Birth-date order and date-of-birth ranges. A plain column: an index on an expression such
-- as COALESCE(birth_date, ...) is never used under row-level security (not leakproof).
CREATE INDEX records_birth ON records (birth_date, id);
-- "Newest change first" order.
CREATE INDEX records_updated ON records (updated_at DESC, id DESC);
CREATE INDEX records_recruited ON records (recruitment_date) WHERE recruitment_date IS NOT NULL;

-- Catalogue filters. Most people are Kinh with no religion and no leading position, so the
-- rarer values these indexes find are the ones worth an index scan.
CREATE INDEX records_ethnicity ON records (ethnicity_code);
CREATE INDEX records_religion ON records (religion_code) WHERE religion_code <> '';
CREATE INDEX records_rank ON records (rank_code);
CREATE INDEX records_position ON records (position_code) WHERE position_code <> '';
CREATE INDEX records_degree ON records (degree_code);
CREATE INDEX records_political ON records (political_theory_code) WHERE political_theory_code <> '';

-- The work queues: records awaiting approval and people who left are the few a unit looks for.
CREATE INDEX records_pending ON records (workflow_state) WHERE workflow_state <> 3;
CREATE INDEX records_left ON records (status) WHERE status <> 1;
