-- The nodes serving this database (issue 23), each as of its latest heartbeat: the version
-- of Sigap it runs and the newest schema it knows, which `sigap migrate --check` weighs the
-- pending migrations against. Keep in step with ../postgres/0024_nodes.sql.
CREATE TABLE node (
    id             TEXT PRIMARY KEY,
    host           TEXT NOT NULL,
    version        TEXT NOT NULL,
    schema_latest  INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    seen_at        INTEGER NOT NULL
);
CREATE INDEX node_seen ON node (seen_at);
