-- The unassigned queue of a group, in priority order: only tasks without an assignee are in
-- this index, so the queue reads its page from it instead of walking the priority order of
-- every task (0.3 ms instead of 7 ms at a million incidents).
CREATE INDEX task_unassigned ON task (kind, assignment_group_id, priority, opened_at, id)
    WHERE assigned_to_id IS NULL;
