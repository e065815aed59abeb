-- Replies: the message a message answers (same group, checked by the group
-- commit). A deleted group takes both with it.
ALTER TABLE messages ADD COLUMN reply_to_id INTEGER REFERENCES messages (id) ON DELETE SET NULL;

-- Reactions: one row per (message, user, emoji), so that concurrent toggles
-- of one reaction add or remove one row and counts stay exact. The order of
-- first use is the order of the oldest row of each emoji.
CREATE TABLE reactions (
    message_id INTEGER  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
CREATE INDEX reactions_message ON reactions (message_id, created_at);
