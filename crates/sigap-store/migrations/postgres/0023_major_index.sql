-- The open major incidents (the agents' home page, the major queue) found by the few major
-- incidents rather than by walking every open incident. The query's condition repeats this
-- index's words (`x.major`, `sigap_store::incidents::major`), so that both engines see it
-- applies.
CREATE INDEX incident_major ON incident (task_id) WHERE major;
