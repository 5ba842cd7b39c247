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
