-- pay_reservations (source: src/payments/pay-reservations.sql), two plan fixes found by
-- test/db/plans.test.ts:
-- * It is planned on every call (plan_cache_mode), as live_holds is since 0006. Its statements
--   that find the reservations by `id = ANY (p_reservations)` and filter them by
--   reservation_status kept, from a connection's first payments while reservations was nearly
--   empty, a generic plan that scans the whole table: once a sale had filled it, every payment
--   read every reservation (40,000 rows thrown away per payment in the test).
-- * The show lock takes the shows one at a time by key: as `id IN (subquery)` it scanned every
--   show on a database without statistics.
CREATE OR REPLACE FUNCTION pay_reservations(
  p_user uuid, p_concert uuid, p_reservations uuid[], p_payment uuid, p_transaction uuid,
  p_at timestamptz, p_key text, p_fingerprint text
) RETURNS TABLE (out_refusal text, out_status integer, out_body jsonb, out_held integer, out_replayed boolean)
-- Planned on every call (migration 0010): a generic plan a connection kept from its first payments,
-- made while reservations was nearly empty, scanned every reservation of the sale per payment.
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  c record;
  v_res record;
  v_show uuid;
  v_shows uuid[] := '{}';
  v_concert_ok boolean := true;
  v_date date;
  v_total integer := 0;
  v_found integer := 0;
  v_status text;
  v_balance integer;
  v_refusal text;
  v_facts jsonb := '{}'::jsonb;
  v_sold integer;
  v_body jsonb;
  v_seats jsonb;
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

  -- Locks in one order everywhere (shows, then reservations, then the wallet): the show row is
  -- share-locked, so a cancellation of the date either waits for this payment (and its refund job
  -- then finds it) or committed before it (DATE_CANCELLED below).
  -- One show at a time by its key: a set-wise lock (`id IN (…)`) scanned every show on a database
  -- without statistics (test/db/plans.test.ts).
  FOR v_show IN SELECT DISTINCT r.show_id FROM reservations r WHERE r.id = ANY (p_reservations) ORDER BY 1 LOOP
    PERFORM 1 FROM shows sh WHERE sh.id = v_show FOR SHARE;
  END LOOP;
  FOR v_res IN SELECT * FROM reservations WHERE id = ANY (p_reservations) ORDER BY id FOR UPDATE LOOP
    IF v_res.user_id <> p_user THEN CONTINUE; END IF;
    v_found := v_found + 1;
    v_shows := v_shows || v_res.show_id;
    v_concert_ok := v_concert_ok AND v_res.concert_id = p_concert;
    v_date := v_res.date;
    v_total := v_total + v_res.price;
  END LOOP;
  IF v_found < cardinality(p_reservations) THEN
    v_refusal := 'RESERVATION_NOT_FOUND';
    v_facts := jsonb_build_object('reservationId', (SELECT x FROM unnest(p_reservations) x
      WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE id = x AND user_id = p_user) LIMIT 1));
  ELSIF (SELECT count(DISTINCT x) FROM unnest(v_shows) x) > 1 THEN
    v_refusal := 'VALIDATION_FAILED';
  ELSIF NOT v_concert_ok THEN
    v_refusal := 'QUEUE_TOKEN_FORBIDDEN';
  END IF;
  -- A cancelled date sells nothing.
  IF v_refusal IS NULL AND (SELECT sh.cancelled_at IS NOT NULL FROM shows sh WHERE sh.id = v_shows[1]) THEN
    v_refusal := 'DATE_CANCELLED';
  END IF;
  -- Not held before lapsed: a paid or cancelled reservation says so even if its hold also ran out.
  IF v_refusal IS NULL THEN
    SELECT reservation_status(status, hold_expires_at, p_at) INTO v_status FROM reservations
      WHERE id = ANY (p_reservations) AND reservation_status(status, hold_expires_at, p_at) NOT IN ('HELD', 'EXPIRED')
      LIMIT 1;
    IF FOUND THEN
      v_refusal := 'RESERVATION_NOT_HELD';
      v_facts := jsonb_build_object('status', v_status);
    ELSIF EXISTS (SELECT 1 FROM reservations WHERE id = ANY (p_reservations)
                    AND reservation_status(status, hold_expires_at, p_at) = 'EXPIRED') THEN
      v_refusal := 'HOLD_EXPIRED';
    END IF;
  END IF;
  IF v_refusal IS NULL THEN
    SELECT w.balance INTO v_balance FROM wallets w WHERE w.user_id = p_user FOR NO KEY UPDATE;
    IF coalesce(v_balance, 0) < v_total THEN
      v_refusal := 'INSUFFICIENT_BALANCE';
      v_facts := jsonb_build_object('price', v_total);
    END IF;
  END IF;
  IF v_refusal IS NULL THEN
    -- Each seat must still carry its hold (another hold may have taken one after a lapse): the
    -- seats are locked and checked first, so a refusal has sold nothing.
    SELECT count(*) INTO v_sold FROM (
      SELECT 1 FROM seats s JOIN reservations r ON s.show_id = r.show_id AND s.seat_number = r.seat_number
        WHERE r.id = ANY (p_reservations) AND s.reservation_id = r.id AND NOT s.sold
        FOR NO KEY UPDATE OF s) l;
    IF v_sold < cardinality(p_reservations) THEN v_refusal := 'HOLD_EXPIRED'; END IF;
  END IF;
  IF v_refusal IS NOT NULL THEN
    PERFORM idempotency_release(p_user, p_key);
    RETURN QUERY SELECT v_refusal, NULL::integer, v_facts, NULL::integer, false;
    RETURN;
  END IF;

  UPDATE seats s SET sold = true, hold_expires_at = NULL
    FROM reservations r
    WHERE r.id = ANY (p_reservations) AND s.show_id = r.show_id AND s.seat_number = r.seat_number;
  UPDATE reservations SET status = 'CONFIRMED', payment_id = p_payment WHERE id = ANY (p_reservations);
  UPDATE wallets SET balance = balance - v_total WHERE user_id = p_user RETURNING balance INTO v_balance;
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    VALUES (p_transaction, p_user, 'PAYMENT', -v_total, v_balance, p_at);
  INSERT INTO payments
    (id, reservation_id, user_id, concert_id, show_id, date, seat_number, amount, balance_after, paid_at)
    SELECT p_payment, r.id, p_user, r.concert_id, r.show_id, r.date, r.seat_number, v_total, v_balance, p_at
    FROM reservations r WHERE r.id = ANY (p_reservations) ORDER BY r.seat_number LIMIT 1;
  SELECT jsonb_agg(seat_json(r.id, r.show_id, r.seat_number, r.price) ORDER BY r.seat_number) INTO v_seats
    FROM reservations r WHERE r.id = ANY (p_reservations);
  v_body := jsonb_build_object(
    'paymentId', p_payment, 'concertId', p_concert, 'date', v_date::text, 'status', 'PAID',
    'amount', v_total, 'balance', v_balance,
    'paidAt', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'reservationIds', (SELECT jsonb_agg(x->'reservationId') FROM jsonb_array_elements(v_seats) x),
    'seats', v_seats);
  IF cardinality(p_reservations) = 1 THEN
    v_body := v_body || jsonb_build_object('reservationId', v_seats->0->'reservationId',
      'seatNumber', v_seats->0->'seatNumber');
  END IF;
  PERFORM idempotency_answer(p_user, p_key, 201, v_body);
  PERFORM record_event('payment.succeeded', v_body || jsonb_build_object('userId', p_user), p_at);
  RETURN QUERY SELECT NULL::text, 201, v_body,
    live_holds(p_user, p_concert, p_at),
    false;
END;
$$;
