-- Seating plans (issue 17): a show's seats in sections with grades, rows and numbers; holds of
-- several seats at once and best available; one payment for several holds of one show.
--
-- * show_sections: a show's plan, sections in plan order (best first), each a run of seat numbers
--   first_seat..last_seat with row_seats[k] seats in row k. Existing shows become one section `A`
--   of grade `R` with every seat in one row, as API.md says of the simple form.
-- * seats carry where they are (section_no, row_no, number_in_row), so the database itself can
--   find seats side by side and write receipts; seats_unsold_idx keeps sold seats out of the
--   best-available walk and the counts of what is left.
-- * reservations.payment_id ties each paid seat to its payment (a payment may cover several).
-- * hold_seat and pay_reservation give way to hold_seats / hold_best_seats (sources:
--   src/reservations/hold-seats.sql) and pay_reservations (src/payments/pay-reservations.sql).
CREATE TABLE show_sections (
  show_id uuid NOT NULL REFERENCES shows(id),
  section_no smallint NOT NULL,
  name text NOT NULL,
  grade text NOT NULL,
  price integer NOT NULL,
  first_seat integer NOT NULL,
  last_seat integer NOT NULL,
  row_seats smallint[] NOT NULL,
  PRIMARY KEY (show_id, section_no),
  CONSTRAINT show_sections_name_key UNIQUE (show_id, name),
  CONSTRAINT show_sections_price_range CHECK (price BETWEEN 1 AND 10000000)
);
--> statement-breakpoint
INSERT INTO show_sections (show_id, section_no, name, grade, price, first_seat, last_seat, row_seats)
  SELECT sh.id, 0, 'A', 'R', (SELECT min(s.price) FROM seats s WHERE s.show_id = sh.id), 1, sh.total_seats,
    ARRAY[sh.total_seats]::smallint[]
  FROM shows sh;
--> statement-breakpoint
ALTER TABLE seats ADD COLUMN section_no smallint NOT NULL DEFAULT 0;
--> statement-breakpoint
ALTER TABLE seats ADD COLUMN row_no smallint NOT NULL DEFAULT 1;
--> statement-breakpoint
ALTER TABLE seats ADD COLUMN number_in_row smallint;
--> statement-breakpoint
UPDATE seats SET number_in_row = seat_number;
--> statement-breakpoint
ALTER TABLE seats ALTER COLUMN number_in_row SET NOT NULL;
--> statement-breakpoint
ALTER TABLE seats ALTER COLUMN section_no DROP DEFAULT;
--> statement-breakpoint
ALTER TABLE seats ALTER COLUMN row_no DROP DEFAULT;
--> statement-breakpoint
CREATE INDEX seats_unsold_idx ON seats (show_id, seat_number) WHERE NOT sold;
--> statement-breakpoint
ALTER TABLE reservations ADD COLUMN payment_id uuid;
--> statement-breakpoint
UPDATE reservations r SET payment_id = p.id FROM payments p WHERE p.reservation_id = r.id;
--> statement-breakpoint
CREATE INDEX reservations_payment_idx ON reservations (payment_id) WHERE payment_id IS NOT NULL;
--> statement-breakpoint
DROP FUNCTION IF EXISTS hold_seat(uuid, uuid, uuid, date, integer, uuid, timestamptz, timestamptz, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS pay_reservation(uuid, uuid, uuid, uuid, uuid, timestamptz, text, text);
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
--   names the seats, for hold_seats), HOLD_LIMIT_REACHED (out_held says how many the buyer holds).
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
-- * A seat is sold once: the reservations are locked (in id order, so two payments never wait on
--   each other in a circle), and each seat is sold only while it still carries this live hold
--   (another hold may have taken it after a lapse).
-- * The balance never goes below 0 and always equals the sum of its ledger: the wallet row is
--   locked and checked before anything is written.
-- * Refusals come back as error codes of src/shared/errors.ts, decided before anything is
--   written (out_body carries the facts for the message): RESERVATION_NOT_FOUND (missing or
--   another buyer's), QUEUE_TOKEN_FORBIDDEN (the queue token is for another concert),
--   VALIDATION_FAILED (reservations of different shows), HOLD_EXPIRED, RESERVATION_NOT_HELD
--   ({status}), INSUFFICIENT_BALANCE ({price}: the total).
-- * With an Idempotency-Key (src/db/idempotency.sql) the payment happens at most once and a retry
--   gets the first answer (out_replayed); a key used with another request is IDEMPOTENCY_KEY_REUSED.
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
  INSERT INTO payments (id, reservation_id, user_id, concert_id, date, seat_number, amount, balance_after, paid_at)
    SELECT p_payment, r.id, p_user, r.concert_id, r.date, r.seat_number, v_total, v_balance, p_at
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
  RETURN QUERY SELECT NULL::text, 201, v_body,
    live_holds(p_user, p_concert, p_at),
    false;
END;
$$;
