-- Fewer waits between PostgreSQL's writers (issue 23): numbers from sequences
-- (../postgres/0025_fewer_waits.sql). The embedded database has one writer at a time; its
-- numbers stay in `number_seq`.
--
-- The head of the audit chain also keeps the hash before its latest entry (on PostgreSQL
-- one statement moves the head and writes the entry it made).
ALTER TABLE audit_head ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
