-- Fewer waits between PostgreSQL's writers (issue 23). Keep in step with
-- ../sqlite/0025_fewer_waits.sql (where one writer at a time makes all of this moot).
--
-- Numbers come from sequences, one per prefix (`number_inc` for INC…), which hand a number
-- out without holding a lock until the commit, as the row of `number_seq` did. The previous
-- version's nodes still take numbers from `number_seq` during a rolling upgrade: a trigger
-- makes what they take come from the same sequences. A later release drops `number_seq` and
-- the trigger (contract). A new prefix needs a row in `number_seq` (SQLite) and a sequence.
DO $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT kind, next FROM number_seq LOOP
        EXECUTE format('CREATE SEQUENCE %I START WITH %s', 'number_' || lower(r.kind), greatest(r.next, 1));
    END LOOP;
END
$$;

CREATE FUNCTION number_seq_from_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken BIGINT := NEW.next - OLD.next;
    seq REGCLASS := ('number_' || lower(NEW.kind))::regclass;
    first BIGINT;
BEGIN
    IF taken <= 0 THEN
        RETURN NEW;
    END IF;
    first := nextval(seq);
    IF taken > 1 THEN
        PERFORM setval(seq, first + taken - 1);
    END IF;
    NEW.next := first + taken;
    RETURN NEW;
END
$$;

CREATE TRIGGER number_seq_from_sequence BEFORE UPDATE ON number_seq
    FOR EACH ROW EXECUTE FUNCTION number_seq_from_sequence();

-- The head of the audit chain also keeps the hash before its latest entry, so that one
-- statement moves the head and writes the entry it made.
ALTER TABLE audit_head ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
