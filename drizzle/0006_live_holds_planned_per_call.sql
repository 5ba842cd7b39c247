-- The buyer's live-hold count (the per-buyer hold limit) is planned on every call: a plan kept
-- since a connection's first calls, made while reservations was nearly empty, walked every live
-- hold of the sale for each new hold and payment. live_holds is new in
-- src/reservations/hold-rules.sql; hold_seat and pay_reservation call it (sources:
-- src/reservations/hold-seat.sql, src/payments/pay-reservation.sql).
-- How many live holds a buyer has on a concert: what the per-buyer hold limit counts.
--
-- Planned on every call (plan_cache_mode), never from a plan a connection kept since its first
-- calls. Made while reservations was nearly empty, such a plan may walk the index of every live
-- hold by expiry (as cheap as any on an empty table) and then read all of a sale's holds for each
-- new one: holds got slower as the sale went on. Planned for the table as it is, the buyer's own
-- index wins by its estimate, statistics or not (test/db/plans.test.ts).
CREATE OR REPLACE FUNCTION live_holds(p_user uuid, p_concert uuid, p_at timestamptz)
RETURNS integer LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_held integer;
BEGIN
  SELECT count(*)::integer INTO v_held FROM reservations r
    WHERE r.user_id = p_user AND r.concert_id = p_concert AND hold_is_live(r.status, r.hold_expires_at, p_at);
  RETURN v_held;
END;
$$;
--> statement-breakpoint
-- hold_seat: one buyer takes one seat of a show for a while, or is told why not, in one statement.
--
-- Guarantees:
-- * One winner per seat, whatever the number of concurrent requests or instances: the seat row is
--   locked and found free (seat_is_free) before it is written, all in the database.
-- * Losers are answered at once, never queued behind the winner: a seat already taken is refused
--   from its committed state, and a seat another request is taking right now (its row locked) is
--   skipped (SKIP LOCKED) and refused as held. A refusal locks and writes nothing, so it commits
--   without a WAL flush.
-- * A buyer never holds more than p_max_holds live seats of a concert: the buyer's row lock
--   serialises only that buyer's holds, and the live holds are counted under it.
-- * Refusals come back as error codes of src/shared/errors.ts, and then nothing was written:
--   SEAT_UNAVAILABLE, HOLD_LIMIT_REACHED (out_held says how many the buyer holds).
CREATE OR REPLACE FUNCTION hold_seat(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_seat integer, p_reservation uuid,
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (out_refusal text, out_held integer, out_price integer) LANGUAGE plpgsql AS $$
DECLARE
  v_held integer;
  v_price integer;
BEGIN
  SELECT s.price INTO v_price FROM seats s
    WHERE s.show_id = p_show AND s.seat_number = p_seat AND seat_is_free(s.sold, s.hold_expires_at, p_at)
    FOR NO KEY UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'SEAT_UNAVAILABLE'::text, 0, NULL::integer;
    RETURN;
  END IF;
  PERFORM 1 FROM users u WHERE u.id = p_user FOR NO KEY UPDATE;
  v_held := live_holds(p_user, p_concert, p_at);
  IF v_held >= p_max_holds THEN
    RETURN QUERY SELECT 'HOLD_LIMIT_REACHED'::text, v_held, NULL::integer;
    RETURN;
  END IF;
  -- Locked above and found free: no other statement can have changed it since.
  UPDATE seats s SET reservation_id = p_reservation, hold_expires_at = p_expires
    WHERE s.show_id = p_show AND s.seat_number = p_seat;
  INSERT INTO reservations
    (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
    VALUES (p_reservation, p_user, p_concert, p_show, p_date, p_seat, v_price, 'HELD', p_expires, p_at);
  RETURN QUERY SELECT NULL::text, v_held, v_price;
END;
$$;
--> statement-breakpoint
-- pay_reservation: a buyer pays for a seat they hold, from their balance, in one statement.
--
-- Guarantees:
-- * Everything or nothing: the seat becomes SOLD, the reservation CONFIRMED, the balance is
--   debited with its PAYMENT ledger row, and the payment is written, in one transaction.
-- * A seat is sold once: the reservation is locked, and the seat is sold only while it still
--   carries this live hold (hold_is_live; another hold may have taken it after a lapse).
-- * The balance never goes below 0 and always equals the sum of its ledger: the wallet row is
--   locked and checked before anything is written.
-- * Refusals come back as error codes of src/shared/errors.ts, decided before anything is
--   written (out_body carries the facts for the message): RESERVATION_NOT_FOUND (missing or
--   another buyer's), QUEUE_TOKEN_FORBIDDEN (the queue token is for another concert),
--   HOLD_EXPIRED, RESERVATION_NOT_HELD ({status}), INSUFFICIENT_BALANCE ({price}).
-- * With an Idempotency-Key (idempotency.sql) the payment happens at most once and a retry gets
--   the first answer (out_replayed); a key used with another request is IDEMPOTENCY_KEY_REUSED.
-- * out_held counts the buyer's other live holds for the concert: at 0 the buyer is done and the
--   caller gives the queue slot back.
CREATE OR REPLACE FUNCTION pay_reservation(
  p_user uuid, p_concert uuid, p_reservation uuid, p_payment uuid, p_transaction uuid,
  p_at timestamptz, p_key text, p_fingerprint text
) RETURNS TABLE (out_refusal text, out_status integer, out_body jsonb, out_held integer, out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  r reservations%ROWTYPE;
  v_status text;
  v_balance integer;
  v_refusal text;
  v_facts jsonb;
  v_body jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    SELECT * INTO c FROM idempotency_claim(p_user, p_key, p_fingerprint, p_at);
    IF NOT c.out_claimed THEN
      RETURN QUERY SELECT c.out_refusal, c.out_status, c.out_body,
        live_holds(p_user, p_concert, p_at),
        true;
      RETURN;
    END IF;
  END IF;

  SELECT * INTO r FROM reservations WHERE id = p_reservation FOR UPDATE;
  v_status := reservation_status(r.status, r.hold_expires_at, p_at);
  v_refusal := CASE
    WHEN r.id IS NULL OR r.user_id <> p_user THEN 'RESERVATION_NOT_FOUND'
    WHEN r.concert_id <> p_concert THEN 'QUEUE_TOKEN_FORBIDDEN'
    WHEN v_status = 'EXPIRED' THEN 'HOLD_EXPIRED'
    WHEN v_status <> 'HELD' THEN 'RESERVATION_NOT_HELD'
  END;
  IF v_refusal IS NULL THEN
    SELECT w.balance INTO v_balance FROM wallets w WHERE w.user_id = p_user FOR NO KEY UPDATE;
    IF coalesce(v_balance, 0) < r.price THEN v_refusal := 'INSUFFICIENT_BALANCE'; END IF;
  END IF;
  IF v_refusal IS NULL THEN
    -- The seat must still carry this hold: if another hold took it after a lapse, it is not sold.
    UPDATE seats SET sold = true, hold_expires_at = NULL
      WHERE show_id = r.show_id AND seat_number = r.seat_number AND reservation_id = r.id AND NOT sold;
    IF NOT FOUND THEN v_refusal := 'HOLD_EXPIRED'; END IF;
  END IF;
  IF v_refusal IS NOT NULL THEN
    PERFORM idempotency_release(p_user, p_key);
    v_facts := CASE v_refusal
      WHEN 'RESERVATION_NOT_HELD' THEN jsonb_build_object('status', v_status)
      WHEN 'INSUFFICIENT_BALANCE' THEN jsonb_build_object('price', r.price)
      ELSE '{}'::jsonb END;
    RETURN QUERY SELECT v_refusal, NULL::integer, v_facts, NULL::integer, false;
    RETURN;
  END IF;

  UPDATE reservations SET status = 'CONFIRMED' WHERE id = r.id;
  UPDATE wallets SET balance = balance - r.price WHERE user_id = p_user RETURNING balance INTO v_balance;
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    VALUES (p_transaction, p_user, 'PAYMENT', -r.price, v_balance, p_at);
  INSERT INTO payments (id, reservation_id, user_id, concert_id, date, seat_number, amount, balance_after, paid_at)
    VALUES (p_payment, r.id, p_user, r.concert_id, r.date, r.seat_number, r.price, v_balance, p_at);
  v_body := jsonb_build_object(
    'paymentId', p_payment, 'reservationId', r.id, 'concertId', r.concert_id, 'date', r.date::text,
    'seatNumber', r.seat_number, 'amount', r.price, 'balance', v_balance,
    'paidAt', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  PERFORM idempotency_answer(p_user, p_key, 201, v_body);
  RETURN QUERY SELECT NULL::text, 201, v_body,
    live_holds(p_user, r.concert_id, p_at),
    false;
END;
$$;
