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
