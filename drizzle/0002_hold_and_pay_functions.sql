-- A hold and a payment in one round trip each. Both run the very statements the services ran
-- one by one in a transaction (same order, same row locks, same conditional UPDATEs), so the
-- database still decides every race; they only save the round trips between statements.
-- A plpgsql function is VOLATILE: each statement inside takes a fresh snapshot under READ
-- COMMITTED, so the hold count read after the user's row lock sees every hold committed
-- before the lock was granted, exactly as the separate statements did.

-- Holds a seat: locks the user's row (serialising only that user's holds, which makes the
-- per-user limit exact), counts the user's live holds, then takes the seat with a conditional
-- UPDATE and records the reservation. Returns the live holds counted and the price, NULL when
-- the limit was reached or the seat is held or sold (then nothing was written).
CREATE FUNCTION hold_seat(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_seat integer, p_reservation uuid,
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (out_held integer, out_price integer) LANGUAGE plpgsql AS $$
DECLARE
  v_held integer;
  v_price integer;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
  SELECT count(*)::integer INTO v_held FROM reservations
    WHERE user_id = p_user AND concert_id = p_concert AND status = 'HELD' AND hold_expires_at > p_at;
  IF v_held >= p_max_holds THEN
    RETURN QUERY SELECT v_held, NULL::integer;
    RETURN;
  END IF;
  UPDATE seats SET reservation_id = p_reservation, hold_expires_at = p_expires
    WHERE show_id = p_show AND seat_number = p_seat AND NOT sold
      AND (hold_expires_at IS NULL OR hold_expires_at <= p_at)
    RETURNING price INTO v_price;
  IF v_price IS NOT NULL THEN
    INSERT INTO reservations
      (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
      VALUES (p_reservation, p_user, p_concert, p_show, p_date, p_seat, v_price, 'HELD', p_expires, p_at);
  END IF;
  RETURN QUERY SELECT v_held, v_price;
END;
$$;
--> statement-breakpoint
-- Pays for a held seat when nothing stands in the way: claims the Idempotency-Key (if any),
-- locks the reservation, sells the seat still carrying this hold, confirms the reservation,
-- debits the balance, writes the ledger entry and the payment, stores the response under the
-- key, and counts the user's other live holds for the concert. Any refusal (not found, another
-- concert, not HELD, lapsed, seat gone, funds short) or a key already claimed raises
-- 'boxoffice:refused', which rolls the whole statement back: the caller then takes the
-- statement-by-statement path, which decides and records the refusal (or replays the key).
CREATE FUNCTION pay_reservation(
  p_user uuid, p_concert uuid, p_reservation uuid, p_payment uuid, p_transaction uuid,
  p_at timestamptz, p_paid_at text, p_key text, p_fingerprint text
) RETURNS TABLE (out_body jsonb, out_held integer) LANGUAGE plpgsql AS $$
DECLARE
  r reservations%ROWTYPE;
  v_balance integer;
  v_held integer;
  v_body jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
      VALUES (p_user, p_key, p_fingerprint, p_at) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN RAISE EXCEPTION 'boxoffice:refused'; END IF;
  END IF;
  SELECT * INTO r FROM reservations WHERE id = p_reservation FOR UPDATE;
  IF NOT FOUND OR r.user_id <> p_user OR r.concert_id <> p_concert
     OR r.status <> 'HELD' OR r.hold_expires_at <= p_at THEN
    RAISE EXCEPTION 'boxoffice:refused';
  END IF;
  UPDATE seats SET sold = true, hold_expires_at = NULL
    WHERE show_id = r.show_id AND seat_number = r.seat_number AND reservation_id = r.id AND NOT sold;
  IF NOT FOUND THEN RAISE EXCEPTION 'boxoffice:refused'; END IF;
  UPDATE reservations SET status = 'CONFIRMED' WHERE id = r.id;
  UPDATE wallets SET balance = balance - r.price
    WHERE user_id = p_user AND balance >= r.price
    RETURNING balance INTO v_balance;
  IF NOT FOUND THEN RAISE EXCEPTION 'boxoffice:refused'; END IF;
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    VALUES (p_transaction, p_user, 'PAYMENT', -r.price, v_balance, p_at);
  INSERT INTO payments (id, reservation_id, user_id, concert_id, date, seat_number, amount, balance_after, paid_at)
    VALUES (p_payment, r.id, p_user, r.concert_id, r.date, r.seat_number, r.price, v_balance, p_at);
  SELECT count(*)::integer INTO v_held FROM reservations
    WHERE user_id = p_user AND concert_id = r.concert_id AND status = 'HELD' AND hold_expires_at > p_at;
  v_body := jsonb_build_object(
    'paymentId', p_payment, 'reservationId', r.id, 'concertId', r.concert_id, 'date', r.date::text,
    'seatNumber', r.seat_number, 'amount', r.price, 'balance', v_balance, 'paidAt', p_paid_at);
  IF p_key IS NOT NULL THEN
    UPDATE idempotency_keys SET status_code = 201, response = v_body
      WHERE user_id = p_user AND key = p_key;
  END IF;
  RETURN QUERY SELECT v_body, v_held;
END;
$$;
