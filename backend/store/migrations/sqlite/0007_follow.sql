-- Find and follow: edit history, mute, read receipts, mentions.

-- Every edit keeps the body it replaced; edited_at is when it was
-- replaced. Deleting a message deletes its history (the store does it in
-- the transaction that blanks the message, whose row stays).
CREATE TABLE message_edits (
    id         INTEGER  PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    body       TEXT     NOT NULL,
    edited_at  DATETIME NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, id);

-- A muted group raises no notification but for mentions (the clients
-- decide; the server keeps the switch per membership).
ALTER TABLE memberships ADD COLUMN muted BOOLEAN NOT NULL DEFAULT 0;

-- Whether the user's read markers are shown to the other members
-- (GET /groups/{id}/reads and read events with user_id).
ALTER TABLE users ADD COLUMN share_read_receipts BOOLEAN NOT NULL DEFAULT 1;

-- Mentions: the members a body names as @username, resolved when the body
-- is stored (and again on edit). mention_ids is their ids as the message
-- answers them ("3,7"); message_mentions is the same set, one row each,
-- for counting a member's mentions above their read marker.
ALTER TABLE messages ADD COLUMN mention_ids TEXT NOT NULL DEFAULT '';
CREATE TABLE message_mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;
CREATE INDEX message_mentions_user ON message_mentions (user_id, group_id, seq);
