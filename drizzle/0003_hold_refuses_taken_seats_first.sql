-- A hold of a seat that is already held or sold is refused before anything is locked. The
-- refusal reads the seat's committed state, which was true when read; locking the buyer's row
-- first would give even a refused hold a transaction id and a WAL flush at commit, and under a
-- rush for one seat the many refusals would queue behind those flushes. The decision itself is
-- unchanged: a seat is still taken only by the conditional UPDATE under its row lock.
CREATE OR REPLACE FUNCTION hold_seat(
  p_user uuid, p_concert uuid, p_show uuid, p_date date, p_seat integer, p_reservation uuid,
  p_at timestamptz, p_expires timestamptz, p_max_holds integer
) RETURNS TABLE (out_held integer, out_price integer) LANGUAGE plpgsql AS $$
DECLARE
  v_held integer;
  v_price integer;
BEGIN
  PERFORM 1 FROM seats
    WHERE show_id = p_show AND seat_number = p_seat AND NOT sold
      AND (hold_expires_at IS NULL OR hold_expires_at <= p_at);
  IF NOT FOUND THEN
    RETURN QUERY SELECT 0, NULL::integer;
    RETURN;
  END IF;
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
