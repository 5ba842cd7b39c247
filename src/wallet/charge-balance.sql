-- charge_balance: adds money to a buyer's balance, in one statement.
--
-- Guarantees:
-- * The balance always equals the sum of its ledger: the balance change and its CHARGE row are
--   written together, and the ledger is append-only (migration 0001).
-- * Concurrent charges never lose an update: the balance is incremented by the upsert itself,
--   under the wallet's row lock, and never passes p_max_balance (then BALANCE_LIMIT_EXCEEDED and
--   nothing was written).
-- * With an Idempotency-Key (idempotency.sql) the charge happens at most once and a retry gets the
--   first answer (out_replayed); a key used with another request is IDEMPOTENCY_KEY_REUSED.
CREATE OR REPLACE FUNCTION charge_balance(
  p_user uuid, p_amount integer, p_transaction uuid, p_at timestamptz, p_max_balance integer,
  p_key text, p_fingerprint text
) RETURNS TABLE (out_refusal text, out_status integer, out_body jsonb, out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  v_balance integer;
  v_body jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    SELECT * INTO c FROM idempotency_claim(p_user, p_key, p_fingerprint, p_at);
    IF NOT c.out_claimed THEN
      RETURN QUERY SELECT c.out_refusal, c.out_status, c.out_body, true;
      RETURN;
    END IF;
  END IF;
  INSERT INTO wallets AS w (user_id, balance) VALUES (p_user, p_amount)
    ON CONFLICT (user_id) DO UPDATE SET balance = w.balance + EXCLUDED.balance
      WHERE w.balance + EXCLUDED.balance <= p_max_balance
    RETURNING w.balance INTO v_balance;
  IF NOT FOUND THEN
    PERFORM idempotency_release(p_user, p_key);
    RETURN QUERY SELECT 'BALANCE_LIMIT_EXCEEDED'::text, NULL::integer, NULL::jsonb, false;
    RETURN;
  END IF;
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    VALUES (p_transaction, p_user, 'CHARGE', p_amount, v_balance, p_at);
  v_body := jsonb_build_object(
    'userId', p_user, 'balance', v_balance, 'charged', p_amount, 'transactionId', p_transaction);
  PERFORM idempotency_answer(p_user, p_key, 200, v_body);
  RETURN QUERY SELECT NULL::text, 200, v_body, false;
END;
$$;
