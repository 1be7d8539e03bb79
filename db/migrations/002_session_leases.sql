-- why: one connection per WhatsApp session across instances: a lease row per client id with an owner, an expiry and a fencing token that increases on every takeover.
CREATE TABLE IF NOT EXISTS whatsapp_session_leases (
  client_id     text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
  owner         text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
  fencing_token bigint NOT NULL CHECK (fencing_token > 0),
  expires_at    timestamptz NOT NULL,
  acquired_at   timestamptz NOT NULL DEFAULT now(),
  renewed_at    timestamptz NOT NULL DEFAULT now(),
  takeovers     bigint NOT NULL DEFAULT 0
);

ALTER TABLE whatsapp_session_leases ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_session_leases FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_session_leases FROM authenticated;
  END IF;
END
$$;
