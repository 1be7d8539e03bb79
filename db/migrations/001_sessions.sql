-- why: Baileys auth state in Postgres: one row per session (creds, status, JID, a version both the database and the file mirror carry) and one row per signal key, cascading with its session.
CREATE TABLE IF NOT EXISTS whatsapp_sessions (
  client_id     text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
  creds         text NOT NULL,
  status        text NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'logged_out')),
  jid           text CHECK (jid IS NULL OR length(jid) <= 256),
  version_epoch bigint NOT NULL DEFAULT 0 CHECK (version_epoch >= 0),
  version_seq   bigint NOT NULL DEFAULT 0 CHECK (version_seq >= 0),
  key_check     text CHECK (key_check IS NULL OR length(key_check) <= 200),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS whatsapp_session_keys (
  client_id text NOT NULL REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  type      text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  key_id    text NOT NULL CHECK (length(key_id) BETWEEN 1 AND 512),
  value     text NOT NULL,
  PRIMARY KEY (client_id, type, key_id)
);

ALTER TABLE whatsapp_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_session_keys ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_sessions, whatsapp_session_keys FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_sessions, whatsapp_session_keys FROM authenticated;
  END IF;
END
$$;
