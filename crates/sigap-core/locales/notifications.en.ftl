# What Sigap tells a person, in the application and by mail: one message per kind of
# notification (`notification-<kind>`), with $subject (the record) and $body.

notification-service_review_due = The review of { $subject } is due ({ $body }).
notification-incident_comment = { $subject }: a new message from the service desk.
notification-incident_caller_replied = { $subject }: the caller replied.
notification-incident_resolved = { $subject } is resolved. Please confirm.
notification-incident_closed = { $subject } is closed.
notification-incident_awaiting_you = { $subject }: the service desk is waiting for your answer.
notification-incident_reopened = { $subject } was reopened by the caller.
notification-incident_assigned = { $subject } is assigned to you.
notification-incident_queued = { $subject } is waiting in your group's queue.
notification-incident_major = Major incident: { $subject }
notification-incident_escalated = { $subject } was escalated to you.
notification-sla_threshold = { $subject }: { $body } of the SLA time is used.
notification-sla_owner = { $subject }: { $body } of the SLA time is used on a service you own.
notification-approval_requested = { $subject }: your approval is asked.
notification-approval_reminder = { $subject } is still waiting for your approval.
notification-request_comment = { $subject }: a new message from the service desk.
notification-request_closed_complete = { $subject } is complete.
notification-request_closed_incomplete = { $subject } is closed; not everything was delivered.
notification-request_canceled = { $subject } is canceled.
notification-request_assigned = { $subject } is assigned to you.
notification-request_queued = { $subject } is waiting in your group's queue.
notification-request_item_comment = { $subject }: a new message from the service desk.
notification-request_item_complete = { $subject } is delivered.
notification-request_item_rejected = { $subject } was not approved.
notification-request_item_canceled = { $subject } is canceled.
notification-request_item_assigned = { $subject } is assigned to you.
notification-request_item_queued = { $subject } is waiting in your group's queue.
notification-catalog_task_assigned = { $subject } is assigned to you.
notification-catalog_task_queued = { $subject } is waiting in your group's queue.
notification-kb_review_due = { $subject }: its review date is near.
notification-kb_feedback_attention = { $subject }: a reader flagged it or rated it low.
notification-report_delivery = { $subject }: your scheduled report is attached ({ $body }).
