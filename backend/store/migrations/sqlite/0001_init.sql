-- Initial schema. Times are DATETIME text in UTC with microsecond precision
-- (the driver parses DATETIME columns back into time.Time). AUTOINCREMENT
-- keeps ids of deleted rows from being reused.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT     NOT NULL,
    display_name  TEXT     NOT NULL DEFAULT '',
    password_hash TEXT     NOT NULL,
    created_at    DATETIME NOT NULL
);
-- Usernames are unique ignoring case; this index also serves login lookups.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT     NOT NULL,
    hash       TEXT     NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    revoked_at DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE groups (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT     NOT NULL CHECK (kind IN ('group', 'direct')),
    name             TEXT,
    description      TEXT     NOT NULL DEFAULT '',
    visibility       TEXT     NOT NULL CHECK (visibility IN ('public', 'private')),
    owner_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- "minUserID:maxUserID" for direct groups, NULL otherwise.
    direct_key       TEXT UNIQUE,
    member_count     INTEGER  NOT NULL DEFAULT 0,
    last_seq         INTEGER  NOT NULL DEFAULT 0,
    last_activity_at DATETIME NOT NULL,
    created_at       DATETIME NOT NULL,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE memberships (
    group_id      INTEGER  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id       INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT     NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    last_read_seq INTEGER  NOT NULL DEFAULT 0,
    joined_at     DATETIME NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships (user_id, group_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    seq        INTEGER  NOT NULL,
    sender_id  INTEGER  NOT NULL REFERENCES users (id),
    body       TEXT     NOT NULL,
    client_id  TEXT,
    created_at DATETIME NOT NULL,
    edited_at  DATETIME,
    deleted_at DATETIME,
    UNIQUE (group_id, seq)
);
CREATE UNIQUE INDEX messages_client_key ON messages (group_id, sender_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_sender ON messages (sender_id);
