-- why: sending that a business can rely on: messages kept for retry receipts, replies and status (contents sealed), idempotency keys across restarts and instances, and a durable outbound queue.
CREATE TABLE IF NOT EXISTS whatsapp_messages (
  client_id     text NOT NULL REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  message_id    text NOT NULL CHECK (length(message_id) BETWEEN 1 AND 128),
  from_me       boolean NOT NULL,
  payload       text NOT NULL,
  status        smallint NOT NULL CHECK (status BETWEEN 0 AND 5),
  status_reason text CHECK (status_reason IS NULL OR length(status_reason) <= 500),
  sent_at       timestamptz,
  delivered_at  timestamptz,
  read_at       timestamptz,
  played_at     timestamptz,
  failed_at     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, message_id)
);
CREATE INDEX IF NOT EXISTS whatsapp_messages_created_at ON whatsapp_messages (created_at);

CREATE TABLE IF NOT EXISTS whatsapp_idempotency_keys (
  scope           text PRIMARY KEY CHECK (length(scope) = 64),
  client_id       text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 128),
  fingerprint     text NOT NULL CHECK (length(fingerprint) = 64),
  message_id      text NOT NULL CHECK (length(message_id) BETWEEN 1 AND 128),
  state           text NOT NULL CHECK (state IN ('in_flight', 'done')),
  response_status smallint,
  response_body   text,
  locked_until    timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS whatsapp_idempotency_keys_expires_at ON whatsapp_idempotency_keys (expires_at);

CREATE TABLE IF NOT EXISTS whatsapp_message_queue (
  seq           bigserial PRIMARY KEY,
  client_id     text NOT NULL REFERENCES whatsapp_sessions (client_id) ON DELETE CASCADE,
  message_id    text NOT NULL CHECK (length(message_id) BETWEEN 1 AND 128),
  request       text NOT NULL,
  state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'failed')),
  claimed_until timestamptz,
  error         text CHECK (error IS NULL OR length(error) <= 500),
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (client_id, message_id)
);
CREATE INDEX IF NOT EXISTS whatsapp_message_queue_client ON whatsapp_message_queue (client_id, seq) WHERE state <> 'failed';

ALTER TABLE whatsapp_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE whatsapp_message_queue ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_messages, whatsapp_idempotency_keys, whatsapp_message_queue FROM anon;
    REVOKE ALL ON SEQUENCE whatsapp_message_queue_seq_seq FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_messages, whatsapp_idempotency_keys, whatsapp_message_queue FROM authenticated;
    REVOKE ALL ON SEQUENCE whatsapp_message_queue_seq_seq FROM authenticated;
  END IF;
END
$$;
