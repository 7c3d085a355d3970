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
