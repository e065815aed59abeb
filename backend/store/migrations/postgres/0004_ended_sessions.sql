-- A session is one refresh-token family (one login); access tokens name it
-- ("sid"). Ending a session (logout, logout-all, a reused refresh token, a
-- password change) records it here in the transaction that revokes its
-- tokens: its access tokens are refused from then on, by every instance
-- (each reads the rows of the last minute every second).
CREATE TABLE ended_sessions (
    family_id TEXT        PRIMARY KEY,
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ended_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX ended_sessions_ended_at ON ended_sessions (ended_at);

-- Replaced by ended_sessions: comparing it with the whole-second "iat" of
-- a token let a token issued in the second of a password change through.
ALTER TABLE users DROP COLUMN sessions_since;
