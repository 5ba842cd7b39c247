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
