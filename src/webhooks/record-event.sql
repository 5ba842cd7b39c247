-- The transactional outbox, written once: an effect's SQL function calls record_event in its own
-- transaction, so an event exists exactly when its effect committed (none is lost, none is sent
-- for an effect that rolled back). The dispatcher (webhook-dispatcher.ts) delivers the rows.
--
-- Events are kept only when this connection delivers webhooks (boxoffice.webhooks = on, set by
-- the server when WEBHOOK_URL is configured): without a receiver the outbox would only grow.
CREATE OR REPLACE FUNCTION record_event(p_type text, p_data jsonb, p_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('boxoffice.webhooks', true), '') = 'on' THEN
    INSERT INTO webhook_events (id, type, created_at, data, next_attempt_at)
      VALUES (gen_random_uuid(), p_type, p_at, p_data, p_at);
  END IF;
END;
$$;
