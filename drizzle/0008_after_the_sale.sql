-- After the sale (issue 18): refunds, cancelled shows, e-tickets checked in at the gate, and the
-- outbox of events to other systems.
--
-- * payments: status PAID → REFUNDED (with what was refunded and kept), and the show it belongs to
--   (payments_show_paid_idx is what a cancellation's refund job walks).
-- * reservations: REFUNDED is a status now; checked_in_at is when the ticket entered the gate.
-- * shows: cancelled_at closes a date at once; cancel_done_at is set when its last payment has
--   been refunded (shows_cancelling_idx finds the work left, and nothing when there is none).
-- * ticket_keys: the Ed25519 keys that sign ticket codes; at most one generated key
--   (ticket_keys_one_generated), so instances starting together agree on it.
-- * webhook_events: the transactional outbox (record_event writes a row in the effect's own
--   transaction when the connection has boxoffice.webhooks = on).
-- * The functions, from their sources: src/webhooks/record-event.sql, src/reservations/hold-seats.sql, src/payments/pay-reservations.sql, src/refunds/refund-payment.sql, src/refunds/cancel-show.sql.
ALTER TABLE payments ADD COLUMN status text NOT NULL DEFAULT 'PAID';
--> statement-breakpoint
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('PAID', 'REFUNDED'));
--> statement-breakpoint
ALTER TABLE payments ADD COLUMN refunded integer;
--> statement-breakpoint
ALTER TABLE payments ADD COLUMN refund_fee integer;
--> statement-breakpoint
ALTER TABLE payments ADD COLUMN refunded_at timestamptz;
--> statement-breakpoint
ALTER TABLE payments ADD COLUMN show_id uuid REFERENCES shows(id);
--> statement-breakpoint
UPDATE payments p SET show_id = s.id FROM shows s WHERE s.concert_id = p.concert_id AND s.date = p.date;
--> statement-breakpoint
ALTER TABLE payments ALTER COLUMN show_id SET NOT NULL;
--> statement-breakpoint
CREATE INDEX payments_show_paid_idx ON payments (show_id) WHERE status = 'PAID';
--> statement-breakpoint
ALTER TABLE reservations ADD COLUMN checked_in_at timestamptz;
--> statement-breakpoint
ALTER TABLE shows ADD COLUMN cancelled_at timestamptz;
--> statement-breakpoint
ALTER TABLE shows ADD COLUMN cancel_done_at timestamptz;
--> statement-breakpoint
CREATE INDEX shows_cancelling_idx ON shows (cancelled_at) WHERE cancelled_at IS NOT NULL AND cancel_done_at IS NULL;
--> statement-breakpoint
CREATE TABLE ticket_keys (
  kid text PRIMARY KEY,
  origin text NOT NULL CHECK (origin IN ('generated', 'configured')),
  public_key text NOT NULL,
  private_key text,
  created_at timestamptz NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX ticket_keys_one_generated ON ticket_keys (origin) WHERE origin = 'generated';
--> statement-breakpoint
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  created_at timestamptz NOT NULL,
  data jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_attempt_at timestamptz,
  last_error text,
  delivered_at timestamptz
);
--> statement-breakpoint
CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at) WHERE status = 'pending';
--> statement-breakpoint
CREATE INDEX webhook_events_status_idx ON webhook_events (status, created_at);
--> statement-breakpoint
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
--> statement-breakpoint
-- Holding seats: one buyer takes one or several seats of a show for a while, or is told why not,
-- in one statement. Three entry points share one ending (record_holds):
--   hold_seats       these seats (one or several), all of them or none;
--   hold_best_seats  the first run of p_quantity free seats side by side in one row, in
--                    seat-number order, within the given seat ranges (a section, a grade's
--                    sections, or the whole show).
--
-- Guarantees:
-- * One holder per seat, whatever the number of concurrent requests or instances: every seat is
--   locked and found free (seat_is_free, hold-rules.sql) before it is written, all in the database.
-- * Losers are answered at once, never queued behind a winner: a seat another request is taking
--   right now (its row locked) is skipped (SKIP LOCKED) and counts as unavailable; best-available
--   skips it and looks further along, so concurrent requests never wait on each other's runs and
--   never get the same seat.
-- * All or none: a refusal writes nothing (the locks it took end with its statement).
-- * A buyer never holds more than p_max_holds live seats of a concert: the buyer's row lock
--   serialises only that buyer's holds, and the live holds are counted under it (live_holds).
-- * Refusals come back as error codes of src/shared/errors.ts: SEAT_UNAVAILABLE (out_unavailable
--   names the seats, for hold_seats), HOLD_LIMIT_REACHED (out_held says how many the buyer holds),
--   DATE_CANCELLED.
--
-- A held seat's row answers with what a reservation reports: section, row, number, grade, price.

-- The common ending, for seats already locked and found free by the caller: checks the buyer's
-- limit under the buyer's lock, then writes one reservation per seat.
CREATE OR REPLACE FUNCTION record_holds(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_seats integer[], p_reservations uuid[],
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (
  out_refusal text, out_held integer, out_unavailable integer[], out_reservation uuid,
  out_seat integer, out_price integer, out_section text, out_row integer, out_number integer, out_grade text
) LANGUAGE plpgsql AS $$
DECLARE
  v_held integer;
BEGIN
  -- A cancelled date holds nothing more. (A hold racing the cancellation may slip through; it can
  -- never be paid, see pay_reservations, and lapses as any hold does.)
  IF EXISTS (SELECT 1 FROM shows sh WHERE sh.id = p_show AND sh.cancelled_at IS NOT NULL) THEN
    RETURN QUERY SELECT 'DATE_CANCELLED'::text, 0, NULL::integer[], NULL::uuid,
      NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
    RETURN;
  END IF;
  PERFORM 1 FROM users u WHERE u.id = p_user FOR NO KEY UPDATE;
  v_held := live_holds(p_user, p_concert, p_at);
  IF v_held + cardinality(p_seats) > p_max_holds THEN
    RETURN QUERY SELECT 'HOLD_LIMIT_REACHED'::text, v_held, NULL::integer[], NULL::uuid,
      NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
    RETURN;
  END IF;
  -- Locked above and found free: no other statement can have changed them since.
  UPDATE seats s SET reservation_id = h.reservation, hold_expires_at = p_expires
    FROM unnest(p_seats, p_reservations) AS h(seat, reservation)
    WHERE s.show_id = p_show AND s.seat_number = h.seat;
  INSERT INTO reservations
    (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
    SELECT h.reservation, p_user, p_concert, p_show, p_date, s.seat_number, s.price, 'HELD', p_expires, p_at
    FROM unnest(p_seats, p_reservations) AS h(seat, reservation)
    JOIN seats s ON s.show_id = p_show AND s.seat_number = h.seat;
  RETURN QUERY SELECT NULL::text, v_held, NULL::integer[], h.reservation, s.seat_number, s.price,
      ss.name, s.row_no::integer, s.number_in_row::integer, ss.grade
    FROM unnest(p_seats, p_reservations) AS h(seat, reservation)
    JOIN seats s ON s.show_id = p_show AND s.seat_number = h.seat
    JOIN show_sections ss ON ss.show_id = p_show AND ss.section_no = s.section_no
    ORDER BY s.seat_number;
END;
$$;
--> statement-breakpoint
-- These seats (distinct, ascending), all or none.
CREATE OR REPLACE FUNCTION hold_seats(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_seats integer[], p_reservations uuid[],
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (
  out_refusal text, out_held integer, out_unavailable integer[], out_reservation uuid,
  out_seat integer, out_price integer, out_section text, out_row integer, out_number integer, out_grade text
) LANGUAGE plpgsql AS $$
DECLARE
  v_taken integer[];
BEGIN
  SELECT coalesce(array_agg(l.seat_number), '{}') INTO v_taken FROM (
    SELECT s.seat_number FROM seats s
      WHERE s.show_id = p_show AND s.seat_number = ANY (p_seats)
        AND seat_is_free(s.sold, s.hold_expires_at, p_at)
      ORDER BY s.seat_number
      FOR NO KEY UPDATE SKIP LOCKED) l;
  IF cardinality(v_taken) < cardinality(p_seats) THEN
    RETURN QUERY SELECT 'SEAT_UNAVAILABLE'::text, 0,
      ARRAY(SELECT x FROM unnest(p_seats) x WHERE x <> ALL (v_taken) ORDER BY x), NULL::uuid,
      NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM record_holds(p_user, p_concert, p_show, p_date, p_seats, p_reservations,
    p_at, p_expires, p_max_holds);
END;
$$;
--> statement-breakpoint
-- Best available: p_quantity seats side by side in one row, the first such run in seat-number
-- order within the ranges p_from[i]..p_to[i] (ascending, not overlapping).
--
-- It walks the free seats of the ranges in order (seats_unsold_idx keeps sold seats out of the
-- walk) and, at each run long enough, tries to lock that run with SKIP LOCKED. A run that another
-- request is taking (or took since the walk began) is not waited for: the walk goes on past the
-- seat it could not have. Seats locked but not kept stay locked only until this statement ends.
CREATE OR REPLACE FUNCTION hold_best_seats(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_quantity integer,
  p_from integer[], p_to integer[], p_reservations uuid[],
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (
  out_refusal text, out_held integer, out_unavailable integer[], out_reservation uuid,
  out_seat integer, out_price integer, out_section text, out_row integer, out_number integer, out_grade text
) LANGUAGE plpgsql AS $$
DECLARE
  v_seat record;
  v_run integer[] := '{}';
  v_locked integer[];
  v_last integer;
  v_section smallint;
  v_row smallint;
  v_missing integer;
BEGIN
  <<ranges>>
  FOR i IN 1 .. coalesce(cardinality(p_from), 0) LOOP
    v_run := '{}';
    FOR v_seat IN
      SELECT s.seat_number, s.section_no, s.row_no FROM seats s
        WHERE s.show_id = p_show AND s.seat_number BETWEEN p_from[i] AND p_to[i]
          AND seat_is_free(s.sold, s.hold_expires_at, p_at)
        ORDER BY s.seat_number
    LOOP
      IF cardinality(v_run) > 0 AND v_seat.seat_number = v_last + 1
         AND v_seat.section_no = v_section AND v_seat.row_no = v_row THEN
        v_run := v_run || v_seat.seat_number;
      ELSE
        v_run := ARRAY[v_seat.seat_number];
      END IF;
      v_last := v_seat.seat_number;
      v_section := v_seat.section_no;
      v_row := v_seat.row_no;
      IF cardinality(v_run) = p_quantity THEN
        SELECT coalesce(array_agg(l.seat_number), '{}') INTO v_locked FROM (
          SELECT s.seat_number FROM seats s
            WHERE s.show_id = p_show AND s.seat_number = ANY (v_run)
              AND seat_is_free(s.sold, s.hold_expires_at, p_at)
            ORDER BY s.seat_number
            FOR NO KEY UPDATE SKIP LOCKED) l;
        IF cardinality(v_locked) = p_quantity THEN
          RETURN QUERY SELECT * FROM record_holds(p_user, p_concert, p_show, p_date, v_run,
            p_reservations[1:p_quantity], p_at, p_expires, p_max_holds);
          RETURN;
        END IF;
        -- Someone else has (or is taking) a seat of this run: go on after the last such seat.
        SELECT max(x) INTO v_missing FROM unnest(v_run) x WHERE x <> ALL (v_locked);
        v_run := ARRAY(SELECT x FROM unnest(v_run) x WHERE x > v_missing ORDER BY x);
      END IF;
    END LOOP;
  END LOOP ranges;
  RETURN QUERY SELECT 'SEAT_UNAVAILABLE'::text, 0, NULL::integer[], NULL::uuid,
    NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
END;
$$;
--> statement-breakpoint
-- pay_reservations: a buyer pays for one or several seats they hold of one show, from their
-- balance, in one statement.
--
-- Guarantees:
-- * Everything or nothing: every seat becomes SOLD, every reservation CONFIRMED, the balance is
--   debited by the total with one PAYMENT ledger row, and one payment is written, in one
--   transaction.
-- * A seat is sold once: the reservations are locked (in id order, after their show and before
--   the wallet, the one order every money-moving function takes, so none waits on another in a
--   circle), and each seat is sold only while it still carries this live hold
--   (another hold may have taken it after a lapse).
-- * The balance never goes below 0 and always equals the sum of its ledger: the wallet row is
--   locked and checked before anything is written.
-- * Refusals come back as error codes of src/shared/errors.ts, decided before anything is
--   written (out_body carries the facts for the message): RESERVATION_NOT_FOUND (missing or
--   another buyer's), QUEUE_TOKEN_FORBIDDEN (the queue token is for another concert),
--   VALIDATION_FAILED (reservations of different shows), DATE_CANCELLED, HOLD_EXPIRED, RESERVATION_NOT_HELD
--   ({status}), INSUFFICIENT_BALANCE ({price}: the total).
-- * With an Idempotency-Key (src/db/idempotency.sql) the payment happens at most once and a retry
--   gets the first answer (out_replayed); a key used with another request is IDEMPOTENCY_KEY_REUSED.
-- * A payment.succeeded event is recorded with it (record_event, src/webhooks/record-event.sql).
-- * out_held counts the buyer's other live holds for the concert: at 0 the buyer is done and the
--   caller gives the queue slot back.

-- A sold or held seat as receipts show it: where it is, what it cost.
CREATE OR REPLACE FUNCTION seat_json(p_reservation uuid, p_show uuid, p_seat integer, p_price integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('reservationId', p_reservation, 'seatNumber', p_seat, 'section', ss.name,
      'row', s.row_no, 'number', s.number_in_row, 'grade', ss.grade, 'price', p_price)
    FROM seats s JOIN show_sections ss ON ss.show_id = s.show_id AND ss.section_no = s.section_no
    WHERE s.show_id = p_show AND s.seat_number = p_seat
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION pay_reservations(
  p_user uuid, p_concert uuid, p_reservations uuid[], p_payment uuid, p_transaction uuid,
  p_at timestamptz, p_key text, p_fingerprint text
) RETURNS TABLE (out_refusal text, out_status integer, out_body jsonb, out_held integer, out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  v_res record;
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
  PERFORM 1 FROM shows sh
    WHERE sh.id IN (SELECT r.show_id FROM reservations r WHERE r.id = ANY (p_reservations))
    ORDER BY sh.id FOR SHARE;
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
--> statement-breakpoint
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
--   p_cutoff_hours before 00:00 UTC of the show's date), BALANCE_LIMIT_EXCEEDED (the credit would
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
--> statement-breakpoint
-- A cancelled show (POST /admin/concerts/{id}/dates/{date}/cancel): closed at once, refunded by a
-- resumable job.
--
-- Guarantees:
-- * cancel_show closes the date in one transaction: cancelled_at is set once (a second cancel,
--   from any instance, changes nothing), its live holds end (their seats free), and one
--   show.cancelled event is recorded. From then on holds and payments of the date are refused
--   (DATE_CANCELLED: hold-seats.sql, pay-reservations.sql).
-- * refund_cancelled returns up to p_limit PAID payments of cancelled shows in full
--   (return_payment, refund-payment.sql), each once: the rows are claimed FOR UPDATE SKIP LOCKED,
--   so any number of instances share the work without waiting on each other, and a crashed
--   instance's batch simply rolls back for the next one to take. A show whose last payment has
--   been returned is marked done (cancel_done_at), which stops the job from looking at it again.
CREATE OR REPLACE FUNCTION cancel_show(p_show uuid, p_at timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_show shows%ROWTYPE;
BEGIN
  UPDATE shows SET cancelled_at = p_at WHERE id = p_show AND cancelled_at IS NULL RETURNING * INTO v_show;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  WITH ended AS (
    UPDATE reservations r SET status = 'CANCELLED'
      WHERE r.show_id = p_show AND hold_is_live(r.status, r.hold_expires_at, p_at)
      RETURNING r.id, r.seat_number)
  UPDATE seats s SET reservation_id = NULL, hold_expires_at = NULL
    FROM ended WHERE s.show_id = p_show AND s.seat_number = ended.seat_number AND s.reservation_id = ended.id;
  PERFORM record_event('show.cancelled', jsonb_build_object('concertId', v_show.concert_id,
    'date', v_show.date::text, 'cancelledAt', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'payments', (SELECT count(*) FROM payments p WHERE p.show_id = p_show AND p.status = 'PAID')), p_at);
  RETURN true;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION refund_cancelled(p_limit integer, p_at timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_payment uuid;
  v_done integer := 0;
BEGIN
  FOR v_payment IN
    SELECT p.id FROM payments p
      WHERE p.status = 'PAID'
        AND p.show_id IN (SELECT sh.id FROM shows sh WHERE sh.cancelled_at IS NOT NULL AND sh.cancel_done_at IS NULL)
      ORDER BY p.id LIMIT p_limit
      FOR UPDATE OF p SKIP LOCKED
  LOOP
    -- The reservations and the wallet are locked in the order payments take them (refund-payment.sql).
    PERFORM 1 FROM reservations r WHERE r.payment_id = v_payment ORDER BY r.id FOR UPDATE;
    PERFORM 1 FROM wallets w JOIN payments p ON p.user_id = w.user_id WHERE p.id = v_payment FOR NO KEY UPDATE OF w;
    PERFORM return_payment(v_payment, 0, gen_random_uuid(), p_at, 'show cancelled');
    v_done := v_done + 1;
  END LOOP;
  UPDATE shows sh SET cancel_done_at = p_at
    WHERE sh.cancelled_at IS NOT NULL AND sh.cancel_done_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.show_id = sh.id AND p.status = 'PAID');
  RETURN v_done;
END;
$$;
