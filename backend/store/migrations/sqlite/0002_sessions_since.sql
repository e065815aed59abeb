-- A password change ends every session: access tokens issued before
-- sessions_since open no WebSocket (NULL: never ended).
ALTER TABLE users ADD COLUMN sessions_since DATETIME;
