-- Refunds: a buyer returns a whole payment (refund_payment), or a cancelled show's payments are
-- returned in full by the refund job (refund_cancelled, cancel-show.sql). Both end in
-- return_payment, written once.
--
-- Guarantees:
-- * Everything or nothing, once: the payment row is locked and must still be PAID; then the
--   payment becomes REFUNDED, every one of its reservations REFUNDED, every seat AVAILABLE at once
--   (not sold, no hold), the balance is credited with one REFUND ledger row, and a
--   payment.refunded event is recorded, in one transaction. A second refund, or a refund racing
--   the job, finds REFUNDED and does nothing.
-- * The fee is computed here, in integers: fee = floor(amount * percent / 100), refunded =
--   amount - fee; a cancelled show keeps no fee.
-- * Refusals come back as error codes of src/shared/errors.ts, before anything is written:
--   PAYMENT_NOT_FOUND (missing or another buyer's), ALREADY_REFUNDED, REFUND_CLOSED (from
--   p_cutoff_hours before 00:00 UTC of the show's date, or once a ticket of it was checked in),
--   BALANCE_LIMIT_EXCEEDED (the credit would
--   take the balance over its limit).
-- * With an Idempotency-Key (src/db/idempotency.sql) a retry gets the first answer.

-- Returns a locked PAID payment: refunds p_amount - fee to its buyer. Returns the answer body.
CREATE OR REPLACE FUNCTION return_payment(
  p_payment uuid, p_fee integer, p_transaction uuid, p_at timestamptz, p_reason text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_pay payments%ROWTYPE;
  v_balance integer;
  v_body jsonb;
BEGIN
  SELECT * INTO v_pay FROM payments WHERE id = p_payment;
  UPDATE payments SET status = 'REFUNDED', refunded = v_pay.amount - p_fee, refund_fee = p_fee, refunded_at = p_at
    WHERE id = p_payment;
  UPDATE reservations SET status = 'REFUNDED' WHERE payment_id = p_payment;
  UPDATE seats s SET sold = false, reservation_id = NULL, hold_expires_at = NULL
    FROM reservations r
    WHERE r.payment_id = p_payment AND s.show_id = r.show_id AND s.seat_number = r.seat_number;
  INSERT INTO wallets (user_id, balance) VALUES (v_pay.user_id, v_pay.amount - p_fee)
    ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance
    RETURNING balance INTO v_balance;
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    VALUES (p_transaction, v_pay.user_id, 'REFUND', v_pay.amount - p_fee, v_balance, p_at);
  v_body := jsonb_build_object('paymentId', p_payment, 'status', 'REFUNDED',
    'refunded', v_pay.amount - p_fee, 'fee', p_fee, 'balance', v_balance);
  PERFORM record_event('payment.refunded', v_body || jsonb_build_object(
    'userId', v_pay.user_id, 'concertId', v_pay.concert_id, 'date', v_pay.date::text, 'reason', p_reason,
    'reservationIds', (SELECT jsonb_agg(r.id ORDER BY r.seat_number) FROM reservations r WHERE r.payment_id = p_payment)),
    p_at);
  RETURN v_body;
END;
$$;
--> statement-breakpoint
-- A buyer returns one of their payments (POST /payments/{id}/refund).
CREATE OR REPLACE FUNCTION refund_payment(
  p_user uuid, p_payment uuid, p_transaction uuid, p_at timestamptz, p_fee_percent integer,
  p_cutoff_hours integer, p_key text, p_fingerprint text
) RETURNS TABLE (out_refusal text, out_status integer, out_body jsonb, out_concert uuid, out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  v_pay payments%ROWTYPE;
  v_cancelled boolean;
  v_fee integer;
  v_balance integer;
  v_refusal text;
  v_body jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    SELECT * INTO c FROM idempotency_claim(p_user, p_key, p_fingerprint, p_at);
    IF NOT c.out_claimed THEN
      RETURN QUERY SELECT c.out_refusal, c.out_status, c.out_body, NULL::uuid, true;
      RETURN;
    END IF;
  END IF;
  -- Locks in the order payments take them too: the payment, its reservations, then the wallet.
  SELECT * INTO v_pay FROM payments WHERE id = p_payment FOR UPDATE;
  PERFORM 1 FROM reservations r WHERE r.payment_id = p_payment ORDER BY r.id FOR UPDATE;
  SELECT sh.cancelled_at IS NOT NULL INTO v_cancelled FROM shows sh WHERE sh.id = v_pay.show_id;
  -- A cancelled show is returned in full, whoever asks first: the buyer or the refund job.
  v_fee := CASE WHEN v_cancelled THEN 0 ELSE (v_pay.amount::bigint * p_fee_percent / 100)::integer END;
  SELECT w.balance INTO v_balance FROM wallets w WHERE w.user_id = v_pay.user_id FOR NO KEY UPDATE;
  v_refusal := CASE
    WHEN v_pay.id IS NULL OR v_pay.user_id <> p_user THEN 'PAYMENT_NOT_FOUND'
    WHEN v_pay.status = 'REFUNDED' THEN 'ALREADY_REFUNDED'
    WHEN NOT v_cancelled AND p_at >= v_pay.date::timestamp AT TIME ZONE 'UTC' - make_interval(hours => p_cutoff_hours)
      THEN 'REFUND_CLOSED'
    -- A ticket that has been through the gate was used: it cannot be returned (a cancelled show
    -- is still refunded in full).
    WHEN NOT v_cancelled AND EXISTS (SELECT 1 FROM reservations r
                                      WHERE r.payment_id = p_payment AND r.checked_in_at IS NOT NULL)
      THEN 'REFUND_CLOSED'
    WHEN coalesce(v_balance, 0)::bigint + v_pay.amount - v_fee > 1000000000 THEN 'BALANCE_LIMIT_EXCEEDED'
  END;
  IF v_refusal IS NOT NULL THEN
    PERFORM idempotency_release(p_user, p_key);
    RETURN QUERY SELECT v_refusal, NULL::integer, '{}'::jsonb, NULL::uuid, false;
    RETURN;
  END IF;
  v_body := return_payment(p_payment, v_fee, p_transaction, p_at, 'returned');
  PERFORM idempotency_answer(p_user, p_key, 200, v_body);
  RETURN QUERY SELECT NULL::text, 200, v_body, v_pay.concert_id, false;
END;
$$;
