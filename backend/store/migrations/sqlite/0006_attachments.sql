-- Uploaded files. The bytes are in the blob store under key (and thumb_key
-- for an image's thumbnail); a row without message_id is an upload not
-- sent yet. group_id has no foreign key on purpose: a deleted group leaves
-- its attachments' rows for the sweeper, which deletes their bytes first.
-- claimed_until is the sweeper's lease: an instance that claimed a row
-- deletes its blobs, then the row; should it die meanwhile, another takes
-- the row over once the lease ends.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id      INTEGER  NOT NULL,
    uploader_id   INTEGER  NOT NULL REFERENCES users (id),
    message_id    INTEGER  REFERENCES messages (id) ON DELETE SET NULL,
    filename      TEXT     NOT NULL,
    content_type  TEXT     NOT NULL,
    size          INTEGER  NOT NULL,
    sha256        TEXT     NOT NULL,
    width         INTEGER,
    height        INTEGER,
    key           TEXT     NOT NULL UNIQUE,
    thumb_key     TEXT,
    created_at    DATETIME NOT NULL,
    claimed_until DATETIME
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_id IS NULL;
