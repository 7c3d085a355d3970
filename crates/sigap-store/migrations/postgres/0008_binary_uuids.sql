-- SQLite stores UUIDs as 16-byte BLOBs from this version on (../sqlite/0008_binary_uuids.sql).
-- PostgreSQL has kept them in its uuid type from the start: nothing to change.
SELECT 1;
