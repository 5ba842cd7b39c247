-- Idempotency-Key in SQL, written once for every write that takes a key (charge_balance,
-- pay_reservation). The key row is claimed in the same transaction as the effect and answered in
-- the same commit, so a retry either waits for the first request and gets its stored answer, or
-- finds nothing and runs as new: the effect happens at most once, with no lock in any process.
-- A refused request gives its claim back (idempotency_release) and the caller records the refusal
-- it built from the error catalog (recordRefusal in idempotency.ts); a 5xx records nothing.

-- Claims (user, key) for this request. When the key is taken, returns what it holds: the stored
-- status and body, or IDEMPOTENCY_KEY_REUSED when it was used with another request.
CREATE OR REPLACE FUNCTION idempotency_claim(p_user uuid, p_key text, p_fingerprint text, p_at timestamptz)
RETURNS TABLE (out_claimed boolean, out_refusal text, out_status integer, out_body jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  -- ON CONFLICT waits for a concurrent claim's transaction, which commits its answer with it.
  INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
    VALUES (p_user, p_key, p_fingerprint, p_at) ON CONFLICT DO NOTHING;
  IF FOUND THEN
    RETURN QUERY SELECT true, NULL::text, NULL::integer, NULL::jsonb;
    RETURN;
  END IF;
  RETURN QUERY SELECT false,
      CASE WHEN k.request_hash <> p_fingerprint THEN 'IDEMPOTENCY_KEY_REUSED' END,
      k.status_code, k.response
    FROM idempotency_keys k WHERE k.user_id = p_user AND k.key = p_key;
END;
$$;
--> statement-breakpoint
-- Stores the answer of the request that claimed the key, in its transaction.
CREATE OR REPLACE FUNCTION idempotency_answer(p_user uuid, p_key text, p_status integer, p_body jsonb)
RETURNS void LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status_code = p_status, response = p_body
    WHERE user_id = p_user AND key = p_key AND p_key IS NOT NULL
$$;
--> statement-breakpoint
-- Gives a claim back when the request was refused: nothing happened, and the refusal is recorded
-- afterwards with its full problem body.
CREATE OR REPLACE FUNCTION idempotency_release(p_user uuid, p_key text)
RETURNS void LANGUAGE sql AS $$
  DELETE FROM idempotency_keys WHERE user_id = p_user AND key = p_key AND p_key IS NOT NULL
$$;
