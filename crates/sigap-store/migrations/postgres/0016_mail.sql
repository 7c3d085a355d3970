-- The e-mail channel: mailboxes mail comes in through, every message kept raw (in and out),
-- the quarantine, delivery reports, per-sender limits, and what a person wants by mail.

-- A mailbox: an address the desk receives at, what a new mail there opens, and how it is
-- read (IMAP polling, or an MTA piping to `sigap mail receive`).
CREATE TABLE mailbox (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    -- The address mail arrives at (lower case).
    address            TEXT NOT NULL,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    -- What a new mail opens: incident or request (a request of catalog_item_id).
    kind               TEXT NOT NULL,
    catalog_item_id    UUID REFERENCES catalog_item (id),
    group_id           UUID REFERENCES support_group (id),
    -- An unknown sender: create (a requester is made) or refuse (a reply says why).
    unknown_senders    TEXT NOT NULL DEFAULT 'create',
    -- A reply to a resolved task: reopen it, or refuse (a reply says why).
    resolved_reply     TEXT NOT NULL DEFAULT 'reopen',
    -- Tasks one sender may open by mail here in a day, and auto-replies one address gets.
    max_tasks_per_day  BIGINT NOT NULL DEFAULT 40,
    max_replies_per_day BIGINT NOT NULL DEFAULT 10,
    max_bytes          BIGINT NOT NULL DEFAULT 10485760,
    -- Acknowledge a new task by mail.
    acknowledge        BOOLEAN NOT NULL DEFAULT TRUE,
    -- IMAP: none when an MTA delivers by `sigap mail receive`.
    imap_host          TEXT,
    imap_port          BIGINT,
    -- tls, starttls
    imap_security      TEXT NOT NULL DEFAULT 'tls',
    imap_username      TEXT,
    imap_password      TEXT,
    imap_folder        TEXT NOT NULL DEFAULT 'INBOX',
    -- After a message is committed: delete it, or mark it seen.
    imap_after         TEXT NOT NULL DEFAULT 'seen',
    poll_secs          BIGINT NOT NULL DEFAULT 60,
    last_polled_at     TIMESTAMPTZ,
    last_error         TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX mailbox_address ON mailbox (address);
CREATE UNIQUE INDEX mailbox_name ON mailbox (name);

-- Every message taken in (stored raw before anything else) or sent.
CREATE TABLE mail_message (
    id            UUID PRIMARY KEY,
    -- in or out
    direction     TEXT NOT NULL,
    mailbox_id    UUID REFERENCES mailbox (id) ON DELETE SET NULL,
    -- The Message-ID without <> (one is made up for a message that has none).
    message_id    TEXT NOT NULL,
    -- What makes a message taken in twice the same: its mailbox and Message-ID.
    dedupe_key    TEXT,
    raw           BYTEA NOT NULL,
    -- The size as received (raw holds only the start of a message over the limit).
    size          BIGINT NOT NULL,
    truncated     BOOLEAN NOT NULL DEFAULT FALSE,
    sender        TEXT NOT NULL DEFAULT '',
    recipients    TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    -- in: received, processed, ignored, quarantined, discarded; out: queued, sent, failed.
    state         TEXT NOT NULL,
    -- Why it was ignored, quarantined or failed (a code), and the detail.
    reason        TEXT,
    detail        TEXT NOT NULL DEFAULT '',
    -- What it became or belongs to.
    task_id       UUID REFERENCES task (id) ON DELETE SET NULL,
    journal_id    UUID,
    person_id     UUID REFERENCES person (id) ON DELETE SET NULL,
    notification_id UUID,
    -- pipe, imap, smtp
    source        TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    processed_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX mail_message_dedupe ON mail_message (dedupe_key);
CREATE INDEX mail_message_mid ON mail_message (message_id);
CREATE INDEX mail_message_state ON mail_message (direction, state, created_at);
CREATE INDEX mail_message_task ON mail_message (task_id, created_at);

-- What arrived from one sender at one mailbox in a day: tasks opened and auto-replies sent.
CREATE TABLE mail_sender_day (
    mailbox_id  UUID NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    day         TEXT NOT NULL,
    tasks       BIGINT NOT NULL DEFAULT 0,
    replies     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, address, day)
);

-- Delivery status notifications, against the person and the message they answer.
CREATE TABLE mail_bounce (
    id            UUID PRIMARY KEY,
    mail_id       UUID NOT NULL REFERENCES mail_message (id) ON DELETE CASCADE,
    original_id   UUID REFERENCES mail_message (id) ON DELETE SET NULL,
    person_id     UUID REFERENCES person (id) ON DELETE SET NULL,
    address       TEXT NOT NULL,
    action        TEXT NOT NULL,
    status        TEXT NOT NULL,
    diagnostic    TEXT NOT NULL DEFAULT '',
    permanent     BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX mail_bounce_person ON mail_bounce (person_id, created_at);

-- A permanent failure stops mail to the address it failed for, until the address changes.
ALTER TABLE person ADD COLUMN mail_failed_address TEXT;
ALTER TABLE person ADD COLUMN mail_failed_at TIMESTAMPTZ;
CREATE INDEX person_email ON person (lower(email));

-- Notification mail a person turned off, by kind of notification.
CREATE TABLE mail_preference (
    person_id   UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    PRIMARY KEY (person_id, kind)
);

-- Administrators' own wording of a mail (else the built-in one), by kind and language.
CREATE TABLE mail_template (
    kind        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (kind, locale)
);

-- The outbound server (one row).
CREATE TABLE mail_outbound (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    enabled       BOOLEAN NOT NULL DEFAULT FALSE,
    host          TEXT NOT NULL DEFAULT '',
    port          BIGINT NOT NULL DEFAULT 587,
    -- tls, starttls, none
    security      TEXT NOT NULL DEFAULT 'starttls',
    username      TEXT NOT NULL DEFAULT '',
    password      TEXT NOT NULL DEFAULT '',
    from_address  TEXT NOT NULL DEFAULT '',
    from_name     TEXT NOT NULL DEFAULT 'Sigap',
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);

-- The task a notification is about, for its mail's subject and threading.
ALTER TABLE notification ADD COLUMN task_id UUID REFERENCES task (id) ON DELETE CASCADE;
