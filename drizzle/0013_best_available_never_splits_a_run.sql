-- Best available never splits a run: the run's first seat decides who takes it (the others
-- step past the whole run), a run that can be locked only in part is let go whole (the attempt
-- is a subtransaction), and a walk that met contention walks once more. With 1,000 buyers asking
-- for pairs of a 2,000-seat section, two requests meeting on one run each kept one seat of it,
-- leaving single seats no pair could use. Source: src/reservations/hold-seats.sql.
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
-- walk) and, at each run long enough, tries to lock that run with SKIP LOCKED, never waiting on
-- another request. The run's first seat is locked first: of the requests meeting on a run, the one
-- that gets it takes the run, the others step past the whole run. A run that can be locked only in
-- part is let go whole (the attempt is a subtransaction, rolled back), so no request keeps single
-- seats of a run another needed. A walk that met contention and found nothing walks once more:
-- runs let go meanwhile are free again.
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
  v_run integer[];
  v_locked integer[];
  v_last integer;
  v_section smallint;
  v_row smallint;
  v_missing integer;
  v_first boolean;
  v_skip_to integer;
  v_contended boolean := false;
BEGIN
  FOR v_pass IN 1 .. 2 LOOP
    EXIT WHEN v_pass = 2 AND NOT v_contended;
    FOR i IN 1 .. coalesce(cardinality(p_from), 0) LOOP
      v_run := '{}';
      v_skip_to := 0;
      FOR v_seat IN
        SELECT s.seat_number, s.section_no, s.row_no FROM seats s
          WHERE s.show_id = p_show AND s.seat_number BETWEEN p_from[i] AND p_to[i]
            AND seat_is_free(s.sold, s.hold_expires_at, p_at)
          ORDER BY s.seat_number
      LOOP
        CONTINUE WHEN v_seat.seat_number <= v_skip_to;
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
          -- The run's first seat decides who takes the run: requests meeting on it agree without
          -- waiting, and the one that did not get it steps past the whole run, so runs stay
          -- aligned and no one keeps part of another's.
          v_locked := '{}';
          BEGIN
            PERFORM 1 FROM seats s
              WHERE s.show_id = p_show AND s.seat_number = v_run[1]
                AND seat_is_free(s.sold, s.hold_expires_at, p_at)
              FOR NO KEY UPDATE SKIP LOCKED;
            v_first := FOUND;
            IF v_first AND p_quantity > 1 THEN
              SELECT coalesce(array_agg(l.seat_number), '{}') INTO v_locked FROM (
                SELECT s.seat_number FROM seats s
                  WHERE s.show_id = p_show AND s.seat_number = ANY (v_run[2:])
                    AND seat_is_free(s.sold, s.hold_expires_at, p_at)
                  ORDER BY s.seat_number
                  FOR NO KEY UPDATE SKIP LOCKED) l;
              -- Part of the run only: let it all go (v_locked keeps what it saw).
              IF cardinality(v_locked) < p_quantity - 1 THEN
                RAISE EXCEPTION USING ERRCODE = 'BX001';
              END IF;
            END IF;
          EXCEPTION WHEN SQLSTATE 'BX001' THEN
            NULL;
          END;
          IF v_first AND cardinality(v_locked) = p_quantity - 1 THEN
            RETURN QUERY SELECT * FROM record_holds(p_user, p_concert, p_show, p_date, v_run,
              p_reservations[1:p_quantity], p_at, p_expires, p_max_holds);
            RETURN;
          END IF;
          v_contended := true;
          IF NOT v_first THEN
            -- Another request is taking the run that starts here: its seats are not for us.
            v_skip_to := v_run[1] + p_quantity - 1;
            v_run := '{}';
          ELSE
            -- A seat of the run is someone else's: go on after the last such seat.
            SELECT max(x) INTO v_missing FROM unnest(v_run[2:]) x WHERE x <> ALL (v_locked);
            v_run := ARRAY(SELECT x FROM unnest(v_run) x WHERE x > v_missing ORDER BY x);
          END IF;
        END IF;
      END LOOP;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT 'SEAT_UNAVAILABLE'::text, 0, NULL::integer[], NULL::uuid,
    NULL::integer, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
END;
$$;
