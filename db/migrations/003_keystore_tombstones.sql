-- why: a write updates a narrow version row (the version and creds leave whatsapp_sessions for their own tables), a deleted session stays deleted (a tombstone keeps the version it reached, so a recreated session counts on from there; each row has an incarnation and the database an id, so a mirror file can tell which database and which life of its session it copies), and key ids can be stored as keyed hashes.
CREATE TABLE IF NOT EXISTS whatsapp_session_creds (
  client_id text PRIMARY KEY REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  creds     text NOT NULL
);

INSERT INTO whatsapp_session_creds (client_id, creds)
  SELECT client_id, creds FROM whatsapp_sessions
  ON CONFLICT (client_id) DO NOTHING;

ALTER TABLE whatsapp_sessions DROP COLUMN IF EXISTS creds;

-- Every write moves the version; a row of three columns is far cheaper to rewrite than the session's.
CREATE TABLE IF NOT EXISTS whatsapp_session_versions (
  client_id     text PRIMARY KEY REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  version_epoch bigint NOT NULL CHECK (version_epoch >= 0),
  version_seq   bigint NOT NULL CHECK (version_seq >= 0)
);

INSERT INTO whatsapp_session_versions (client_id, version_epoch, version_seq)
  SELECT client_id, version_epoch, version_seq FROM whatsapp_sessions
  ON CONFLICT (client_id) DO NOTHING;

ALTER TABLE whatsapp_sessions DROP COLUMN IF EXISTS version_epoch, DROP COLUMN IF EXISTS version_seq;

-- A new id each time the session's row is created: a mirror file of an earlier life never wins against it.
ALTER TABLE whatsapp_sessions ADD COLUMN IF NOT EXISTS incarnation text NOT NULL DEFAULT gen_random_uuid()::text
  CHECK (length(incarnation) BETWEEN 1 AND 64);

-- 'clear': key ids as Baileys names them; 'hmac-sha256/v1': keyed hashes (SESSION_ENCRYPTION_KEY set).
ALTER TABLE whatsapp_sessions ADD COLUMN IF NOT EXISTS key_ids text NOT NULL DEFAULT 'clear'
  CHECK (key_ids IN ('clear', 'hmac-sha256/v1'));

CREATE TABLE IF NOT EXISTS whatsapp_session_tombstones (
  client_id     text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
  version_epoch bigint NOT NULL CHECK (version_epoch >= 0),
  version_seq   bigint NOT NULL CHECK (version_seq >= 0),
  deleted_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS whatsapp_keystore_identity (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  database_id text NOT NULL CHECK (length(database_id) BETWEEN 1 AND 64)
);

INSERT INTO whatsapp_keystore_identity (database_id) VALUES (gen_random_uuid()::text)
  ON CONFLICT (singleton) DO NOTHING;

ALTER TABLE whatsapp_session_creds ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_session_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_session_tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_keystore_identity ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_session_creds, whatsapp_session_versions, whatsapp_session_tombstones, whatsapp_keystore_identity FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_session_creds, whatsapp_session_versions, whatsapp_session_tombstones, whatsapp_keystore_identity FROM authenticated;
  END IF;
END
$$;
