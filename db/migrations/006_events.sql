-- why: everything that arrives on a session becomes a durable, ordered event (message.received, message.status, session.status, session.qr) that webhooks and the pull API deliver at least once, with a per-session sequence without gaps.
-- Events have no foreign key to whatsapp_sessions on purpose: a session's last events (logged out,
-- deleted) must still reach the consumer after the session row is gone; the retention purge removes them.
CREATE TABLE IF NOT EXISTS whatsapp_events (
  client_id  text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
  seq        bigint NOT NULL CHECK (seq > 0),
  id         text NOT NULL CHECK (length(id) = 30),
  type       text NOT NULL CHECK (type IN ('message.received', 'message.status', 'session.status', 'session.qr')),
  ts         timestamptz NOT NULL,
  data       jsonb NOT NULL,
  dedupe_key text CHECK (dedupe_key IS NULL OR length(dedupe_key) <= 512),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, seq),
  UNIQUE (client_id, dedupe_key)
);
CREATE INDEX IF NOT EXISTS whatsapp_events_created_at ON whatsapp_events (created_at);

-- The last sequence number given per session. Kept when the events themselves are purged, so the
-- sequence continues (a consumer never sees a number twice). An append increments it in the same
-- statement that inserts the events: the row lock orders concurrent appends of one session.
CREATE TABLE IF NOT EXISTS whatsapp_event_counters (
  client_id text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
  last_seq  bigint NOT NULL CHECK (last_seq >= 0)
);

ALTER TABLE whatsapp_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_event_counters ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_events, whatsapp_event_counters FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_events, whatsapp_event_counters FROM authenticated;
  END IF;
END
$$;
