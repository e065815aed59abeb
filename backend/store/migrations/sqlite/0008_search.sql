-- Message search: an FTS5 index of the current bodies (external content:
-- the text lives in messages only), kept in step by triggers, so that an
-- edit re-indexes and a deleted message's empty body matches nothing.
-- unicode61 folds case and, with remove_diacritics 2, accents. A second
-- column holds the message's group as one token ("g17"), so that a search
-- of the caller's groups matches within them in the index instead of
-- finding every group's matches and dropping most (store/search.go).
CREATE VIEW messages_fts_source AS
    SELECT id, body, 'g' || group_id AS grp FROM messages;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    grp,
    content = 'messages_fts_source',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body, grp) VALUES (new.id, new.body, 'g' || new.group_id);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, grp) VALUES ('delete', old.id, old.body, 'g' || old.group_id);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, grp) VALUES ('delete', old.id, old.body, 'g' || old.group_id);
    INSERT INTO messages_fts (rowid, body, grp) VALUES (new.id, new.body, 'g' || new.group_id);
END;

-- Messages stored before this migration.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
