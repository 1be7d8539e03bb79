-- why: placement needs to know which server processes are alive and how to reach them: one row per running instance, refreshed by its heartbeat and deleted on clean shutdown.
CREATE TABLE IF NOT EXISTS whatsapp_instances (
  id             text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  url            text CHECK (url IS NULL OR length(url) BETWEEN 1 AND 500),
  fly_machine_id text CHECK (fly_machine_id IS NULL OR length(fly_machine_id) BETWEEN 1 AND 100),
  started_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS whatsapp_instances_heartbeat_idx ON whatsapp_instances (heartbeat_at);

ALTER TABLE whatsapp_instances ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON whatsapp_instances FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON whatsapp_instances FROM authenticated;
  END IF;
END
$$;
