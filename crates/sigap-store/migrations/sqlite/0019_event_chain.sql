-- An alert's events are found from its newest event backwards: the alert names its last
-- event, and each event the one before it of the same alert. This replaces the index on
-- (alert_id, time), into which every batch of events wrote one entry per alert, that is on
-- nearly every page of the index once a thousand alerts had a few events each; the chain
-- is written on the rows a batch writes anyway. Neither column is a reference: pruning old
-- events ends a chain where it prunes.
ALTER TABLE event ADD COLUMN previous_id TEXT;
ALTER TABLE alert ADD COLUMN last_event_id TEXT;
UPDATE event SET previous_id = p.prev
FROM (SELECT id, lag(id) OVER (PARTITION BY alert_id ORDER BY received_at, id) AS prev
      FROM event WHERE alert_id IS NOT NULL) p
WHERE event.id = p.id AND p.prev IS NOT NULL;
UPDATE alert SET last_event_id =
    (SELECT e.id FROM event e WHERE e.alert_id = alert.id ORDER BY e.received_at DESC, e.id DESC LIMIT 1);
DROP INDEX event_alert;

-- The last closed alert of a key is looked up among closed alerts only: an event folded
-- into an alert going on no longer rewrites an entry of this index.
DROP INDEX alert_key;
CREATE INDEX alert_key ON alert (source, key, last_at) WHERE state = 'closed';
