-- Message search: prefix indexes. The last word of every query matches as
-- a prefix (chat.ParseSearch), and without an index of that prefix's
-- length FTS5 reads and merges the whole posting list of every word that
-- starts with it, for the query and again for bm25's word weights: most of
-- a search's time at 1,000,000 messages (BENCHMARKS.md "Message search").
-- With prefix indexes of 2 to 8 characters such a prefix is read like one
-- word; a longer or 1-character prefix still takes the slow path.
--
-- FTS5 cannot add an option to an existing table, so the index is made
-- again from the messages (the triggers of 0008 name the table and stay),
-- and merged into one segment.
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    grp,
    content = 'messages_fts_source',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6 7 8'
);

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
