# Sigap interface, English.
app-name = Sigap
app-tagline = IT service management
skip-to-content = Skip to content

nav-home = Home
nav-people = People
nav-groups = Groups
nav-organizations = Organizations
nav-api-docs = API
nav-profile = Profile
nav-sign-out = Sign out
nav-main-label = Main navigation
nav-user-label = Your account
lang-label = Language
lang-en = English
lang-id = Bahasa Indonesia
signed-in-as = Signed in as { $name }

login-title = Sign in
login-intro = Sign in to the service desk.
login-login = Login
login-password = Password
login-submit = Sign in
login-bad = Wrong login or password.
login-locked = Too many failed sign-in attempts. Try again in { $minutes ->
    [one] one minute
   *[other] { $minutes } minutes
}.
signed-out = You have been signed out.

home-title = Home
home-welcome = Welcome, { $name }
home-my-groups = Your groups
home-no-groups = You are not a member of any support group.
home-managed = Groups you manage
home-members = { $count ->
    [one] one member
   *[other] { $count } members
}
home-tokens-expiring = API tokens expiring within two weeks
home-requester-intro = Your name, e-mail, language, time zone, password and API tokens are under Profile.
home-admin-title = System status
home-people = People
home-admins = Active administrators
home-jobs-queued = Jobs waiting
home-jobs-running = Jobs running
home-jobs-failed = Jobs failed
home-audit-entries = Audit log entries
home-groups-no-manager = Groups without a manager
home-groups-no-members = Groups without members
home-all-good = Nothing needs your attention.
home-organization = Your organization

people-title = People
people-new = New person
people-empty = No people match.
person-title = Person
groups-title = Support groups
groups-new = New group
groups-empty = No groups match.
group-title = Group
orgs-title = Organizations
orgs-new = New organization
orgs-empty = No organizations match.
org-title = Organization
org-people = People of this organization

field-login = Login
field-name = Name
field-email = E-mail
field-locale = Language
field-time-zone = Time zone
field-active = Active
field-organization = Organization
field-roles = Roles
field-password = Password
field-type = Type
field-kind = Kind
field-description = Description
field-manager = Manager
field-manager-hint = Login of the group's manager
field-members = Members
field-member-login = Login of the person to add
field-search = Search
field-status = Status
field-created = Created
field-updated = Updated
field-version = Version
field-scope = Scope
field-expires = Expires on
field-last-used = Last used
field-current-password = Current password
field-new-password = New password
field-none = (none)
field-any = Any

role-requester = Requester
role-agent = Agent
role-manager = Manager
role-admin = Administrator
role-approver = Approver
role-cab_member = CAB member
role-portfolio_manager = Portfolio manager

kind-provider = Provider
kind-customer = Customer
kind-supplier = Supplier

group-type-service_desk = Service desk
group-type-technical = Technical
group-type-application = Application
group-type-it_operations = IT operations

scope-read = Read only
scope-read_write = Read and write

status-active = Active
status-inactive = Inactive
status-revoked = Revoked
status-expired = Expired

action-save = Save
action-create = Create
action-filter = Filter
action-next-page = Next page
action-first-page = First page
action-delete = Delete
action-remove = Remove
action-add = Add
action-revoke = Revoke
action-set-password = Set password
action-change-password = Change password
action-create-token = Create token
action-back = Back
action-copy = Copy
action-copied = Copied
confirm-delete = Delete this for good? This cannot be undone.
confirm-revoke = Revoke this token? Programs using it will stop working.

history-title = History
history-empty = No changes recorded.
history-when = When
history-who = Who
history-action = Action
history-changes = Changes
history-create = created
history-update = changed
history-delete = deleted

profile-title = Your profile
profile-saved = Your profile was saved.
profile-password-title = Password
profile-password-changed = Your password was changed. Your other sessions were signed out.
profile-tokens-title = API tokens
profile-tokens-intro = Tokens let scripts and other programs use the API as you. Send one as "Authorization: Bearer TOKEN".
profile-tokens-empty = You have no API tokens.
profile-token-created = Your new token is shown below, once. Copy it now: it cannot be shown again.
profile-token-revoked = The token was revoked.

saved = Saved.
created = Created.
deleted = Deleted.
member-added = Member added.
member-removed = Member removed.
password-set = The password was set and the person's sessions were ended.

error-title = Something went wrong
error-not-found = This page or record does not exist, or you may not see it.
error-forbidden = You are not allowed to do this.
error-conflict = This conflicts with existing data: { $detail }
error-stale = Someone else changed this record while you were editing. Reload and try again.
error-unavailable = The service is busy. Try again in a moment.
error-internal = An internal error occurred. It has been logged.
error-invalid = Some fields need your attention.
error-in-use = The record is still in use by other records.
error-last-admin = This is the last active administrator; keep at least one.
error-exists = A record with this { $field } already exists.

err-required = { $field }: required.
err-too_long = { $field }: too long.
err-too_short = { $field }: too short (at least 10 characters).
err-invalid_email = { $field }: not a valid e-mail address.
err-invalid_characters = { $field }: contains characters that are not allowed.
err-invalid_length = { $field }: must be 2 to 64 characters.
err-invalid_choice = { $field }: not one of the choices.
err-invalid_time_zone = { $field }: not a known time zone (for example Asia/Jakarta).
err-not_found = { $field }: not found.
err-wrong_password = { $field }: not your current password.
err-invalid_time = { $field }: not a valid date.
err-in_the_past = { $field }: must be in the future.
err-other = { $field }: { $message }

page-footer = Sigap, open-source IT service management

## Service portfolio, CMDB, projects and applications
nav-services = Services
nav-cmdb = CMDB
nav-projects = Projects
nav-applications = Applications
services-title = Service portfolio
services-new = New service
services-show-retired = Show retired services
services-hide-retired = Hide retired services
services-catalogue-intro = The services offered to you.
services-empty = No services are offered to you yet.
service-title = Service
service-lifecycle = Lifecycle
service-decision-hint = Moving past approval is a portfolio decision: only a portfolio manager can make it.
service-roles = Roles
service-offerings = Offerings
service-offerings-empty = No offerings yet. Offerings can be active only while the service is in the catalogue.
service-cis = Configuration items
service-cis-empty = No configuration items deliver this service yet.
service-graph-alt = What this service depends on
service-edit = Service details
service-design = Design package
service-projects = Projects
service-no-customers = There are no customer organizations yet.
service-review-on = Review { $date }
criticality-short = C{ $level }
criticality-long = { $level ->
    [1] 1 — critical
    [2] 2 — high
    [3] 3 — medium
   *[4] 4 — low
}
portfolio-pipeline = Pipeline
portfolio-catalogue = Catalogue
portfolio-retired = Retired
stage-define = Define
stage-analyse = Analyse
stage-approve = Approve
stage-charter = Charter
stage-design = Design
stage-transition = Transition
stage-operational = Operational
stage-retired = Retired
design-requirements = Requirements
design-requirements-hint = One per line: must | text (must, should, could, wont)
design-targets = Proposed service level targets
design-targets-hint = One per line: metric | target
design-dependencies = Dependencies
design-risks = Risks
design-risks-hint = One per line: risk | likelihood | impact | mitigation (low, medium, high)
design-acceptance = Acceptance criteria
design-lines-hint = One per line
field-criticality = Criticality
field-owner = Service owner
field-sponsor = Sponsor
field-requester = Requirements requester
field-design-group = Design team
field-planned-cost = Planned cost
field-actual-cost = Actual cost
field-review-date = Review date
field-customers = Customers
field-value-outcomes = Value and outcomes
field-next-stage = Move to
field-stage = Stage
field-reason = Reason
field-availability-hours = Availability hours
field-ci = Configuration item
field-class = Class
field-location = Location
field-serial = Serial number
field-owner-group = Owner group
field-direction = Direction
field-other-ci = Other configuration item
field-dates = Dates
field-start-date = Start
field-end-date = End
field-budget = Budget
field-services = Services
field-function = Function
field-developing-group = Developed by
field-supporting-group = Supported by
hint-login = login
hint-hours = e.g. Mon–Fri 08:00–17:00 WIB
hint-ci-key = class/name, e.g. server/srv-01
hint-ci-search = name, serial or location
hint-services = service names, separated by commas
option-any = Any
option-yes = Yes
option-no = No
action-move = Move
action-add-offering = Add offering
action-activate = Activate
action-deactivate = Deactivate
action-link = Link
action-unlink = Unlink
cmdb-title = Configuration items
cmdb-new = New configuration item
cmdb-empty = No configuration items match.
cmdb-export = Export as CSV
cmdb-export-cis = items
cmdb-export-rels = relationships
cmdb-import-hint = (import through the API: POST /api/v1/cmdb/import)
ci-title = Configuration item
ci-details = Details
ci-impact = Impact
ci-impact-summary = { $count ->
    [0] Nothing else depends on this item.
    [one] One item depends on this one.
   *[other] { $count } items depend on this one.
}
ci-impact-truncated = The analysis stopped at its limit.
ci-impact-svg = Graph as SVG
ci-relationships = Relationships
ci-relationships-empty = No relationships yet.
ci-services = Delivers these services
direction-out = { $name } …
direction-in = … { $name }
depth = { $depth ->
    [one] 1 step away
   *[other] { $depth } steps away
}
ci-status-planned = Planned
ci-status-in_build = In build
ci-status-operational = Operational
ci-status-maintenance = In maintenance
ci-status-retired = Retired
rel-depends_on = depends on
rel-runs_on = runs on
rel-hosted_on = is hosted on
rel-connects_to = connects to
rel-uses = uses
rel-member_of = is a member of
graph-services = Services
graph-offerings = Offerings
graph-customers = Customers
graph-more = +{ $n } more
projects-title = Projects
projects-new = New project
projects-empty = No projects yet.
project-status-proposed = Proposed
project-status-approved = Approved
project-status-in_progress = In progress
project-status-on_hold = On hold
project-status-completed = Completed
project-status-canceled = Canceled
apps-title = Applications
apps-new = New application
apps-empty = No applications yet.
app-status-planned = Planned
app-status-in_development = In development
app-status-production = In production
app-status-sunset = Sunset
app-status-retired = Retired
moved = The service moved to its new stage.
linked = Linked.
unlinked = Link removed.
error-transition = This move is not allowed: { $detail }
error-not-in-catalogue = Only services in the catalogue can have active offerings.
error-builtin = Built-in classes cannot be deleted.
err-invalid_format = { $field }: does not have the expected form.
err-invalid_date = { $field }: not a valid date (YYYY-MM-DD).
err-out_of_range = { $field }: out of range.
err-invalid_type = { $field }: wrong kind of value.
err-invalid_number = { $field }: not a whole number.
err-unknown_attribute = { $field }: not an attribute of this class.
err-duplicate = { $field }: appears twice.
err-too_many = { $field }: too many entries.
err-before_start = { $field }: before the start.
err-same_item = { $field }: an item cannot relate to itself.
err-invalid_code = { $field }: use lower-case letters, digits and underscores.
notification-service_review_due = The review of { $subject } is due ({ $body }).
home-notifications = Notifications
graph-step = { $n ->
    [0] linked
    [one] 1 step
   *[other] { $n } steps
}
action-mark-read = Mark as read
classes-title = CI classes
classes-intro = Every configuration item belongs to a class; a class defines the attributes its items have. Built-in classes can be changed but not deleted.
classes-builtin = built-in
classes-new = New class
classes-attributes-hint = One per line: code | label | type | required | choices (types: text, integer, number, boolean, date, choice)
field-code = Code
field-attributes = Attributes

## Incidents and the portal
nav-incidents = Incidents
nav-portal = My requests
incidents-title = Incidents
incidents-new = New incident
incidents-queues = Queues
incidents-empty = Nothing in this queue.
incident-title = Incident
incident-actions = Actions
incident-journal = Journal
incident-details = Details
queue-mine = Assigned to me
queue-my_groups = My groups
queue-unassigned = Unassigned
queue-on_hold = On hold
queue-major = Major
queue-open = All open
hint-incident-search = number or words of the short description
level = { $level ->
    [1] 1 — high
    [2] 2 — medium
   *[3] 3 — low
}
priority-1 = 1 — Critical
priority-2 = 2 — High
priority-3 = 3 — Moderate
priority-4 = 4 — Low
priority-5 = 5 — Planning
incident-state-new = New
incident-state-in_progress = In progress
incident-state-on_hold = On hold
incident-state-resolved = Resolved
incident-state-closed = Closed
incident-state-canceled = Canceled
hold-awaiting_caller = Awaiting caller
hold-awaiting_vendor = Awaiting vendor
hold-awaiting_problem = Awaiting problem
hold-awaiting_change = Awaiting change
resolution-solved_permanently = Solved (permanently)
resolution-solved_workaround = Solved (work-around)
resolution-not_reproducible = Not solved (not reproducible)
resolution-too_costly = Not solved (too costly)
resolution-resolved_by_caller = Resolved by the caller
contact-phone = Phone
contact-email = E-mail
contact-self_service = Self-service
contact-walk_in = Walk-in
contact-chat = Chat
contact-monitoring = Monitoring
contact-api = API
journal-comment = comment
journal-work_note = work note
journal-change = change
field-number = Number
field-short-description = Short description
field-caller = Caller
field-priority = Priority
field-priority-reason = Why the priority was overridden
field-state = State
field-assignment-group = Assignment group
field-assigned-to = Assigned to
field-contact-type = Contact type
field-impact = Impact
field-urgency = Urgency
field-category = Category
field-subcategory = Subcategory
field-service = Service
field-configuration-item = Configuration item
field-major = Major incident
field-hold-reason = Waiting for
field-comment-to-caller = Comment for the caller
field-comment = Comment
field-note = Note
field-opened = Opened
field-resolution-code = Resolution
field-resolution-notes = Resolution notes
field-workaround = Work-around
field-reassignment-count = Reassignments
field-reopen-count = Reopened
action-start = Start work
action-assign-to-me = Assign to me
action-hold = Put on hold
action-resume = Resume
action-resolve = Resolve
action-cancel = Cancel incident
action-comment = Add comment (the caller sees it)
action-work-note = Add work note (internal)
action-accept = Yes, it is solved
action-reject = No, it is not solved
action-report = Report
portal-title = My requests
portal-report = Report a problem
portal-what = What is wrong?
portal-how-urgent = How urgent is it?
portal-details = Details
portal-mine = My incidents
portal-none = You have not reported anything yet.
portal-resolved = The service desk says this is solved. Is it?
portal-why-not = What is still wrong?
portal-conversation = Conversation
portal-no-comments = No messages yet.
