-- Replies: the message a message answers (same group, checked by the group
-- commit). A deleted group takes both with it.
ALTER TABLE messages ADD COLUMN reply_to_id BIGINT REFERENCES messages (id) ON DELETE SET NULL;
-- decorated: the message has (or had) reactions or attachments. A hint
-- that lets a history page of plain messages skip reading them; it is
-- never cleared, so it may only be wrong towards reading for nothing.
ALTER TABLE messages ADD COLUMN decorated BOOLEAN NOT NULL DEFAULT FALSE;

-- Reactions: one row per (message, user, emoji), so that concurrent toggles
-- of one reaction add or remove one row and counts stay exact. The order of
-- first use is the order of the oldest row of each emoji.
CREATE TABLE reactions (
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
CREATE INDEX reactions_message ON reactions (message_id, created_at);
