-- why: signed webhook delivery that survives restarts and lease hand-overs: per-session webhooks (secret sealed), the delivered cursor per endpoint and session, and dead letters that can be redelivered.
CREATE TABLE IF NOT EXISTS whatsapp_webhooks (
  client_id  text PRIMARY KEY REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  url        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  secret     text NOT NULL CHECK (length(secret) <= 1000),
  events     text[] CHECK (events IS NULL OR cardinality(events) <= 50),
  headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Cursors and dead letters have no foreign key to whatsapp_sessions on purpose, like the events: the
-- session's sequence continues after it is deleted and created again (whatsapp_event_counters), so
-- its cursor must stay too, or the events still stored would be sent a second time.
CREATE TABLE IF NOT EXISTS whatsapp_webhook_cursors (
  endpoint      text NOT NULL CHECK (endpoint IN ('global', 'session')),
  client_id     text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
  delivered_seq bigint NOT NULL DEFAULT 0 CHECK (delivered_seq >= 0),
  failing_seq   bigint,
  failing_since timestamptz,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error    text CHECK (last_error IS NULL OR length(last_error) <= 200),
  last_status   smallint,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, endpoint)
);

CREATE TABLE IF NOT EXISTS whatsapp_webhook_dead_letters (
  endpoint    text NOT NULL CHECK (endpoint IN ('global', 'session')),
  client_id   text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
  seq         bigint NOT NULL CHECK (seq > 0),
  event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 64),
  type        text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  attempts    integer NOT NULL CHECK (attempts >= 0),
  last_error  text NOT NULL CHECK (length(last_error) <= 200),
  last_status smallint,
  state       text NOT NULL DEFAULT 'failed' CHECK (state IN ('failed', 'queued')),
  failed_at   timestamptz NOT NULL,
  PRIMARY KEY (client_id, endpoint, seq)
);
CREATE INDEX IF NOT EXISTS whatsapp_webhook_dead_letters_queued ON whatsapp_webhook_dead_letters (client_id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS whatsapp_webhook_dead_letters_failed_at ON whatsapp_webhook_dead_letters (failed_at);

ALTER TABLE whatsapp_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_webhook_cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_webhook_dead_letters ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_webhooks, whatsapp_webhook_cursors, whatsapp_webhook_dead_letters FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_webhooks, whatsapp_webhook_cursors, whatsapp_webhook_dead_letters FROM authenticated;
  END IF;
END
$$;
