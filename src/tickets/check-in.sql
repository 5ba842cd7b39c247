-- Check-in at the gate (POST /gate/checkins): a ticket enters once.
--
-- Guarantees:
-- * One conditional UPDATE decides the first scan: it sets checked_in_at only while it is NULL
--   and the ticket is good (reservation CONFIRMED, its payment PAID, the show not cancelled).
--   However many gates scan one ticket at once, the row lock serialises them and every later
--   UPDATE re-reads the row (PostgreSQL re-checks the WHERE on the newest version), finds
--   checked_in_at set, and changes nothing: exactly one succeeds.
-- * The ticket.checked_in event (record_event, src/webhooks/record-event.sql) is recorded in the
--   same transaction as the check-in, so it exists exactly when the check-in committed.
-- * Otherwise nothing is written, and the answer says why, read after the UPDATE (which waited
--   for any concurrent winner to commit): TICKET_VOID when the ticket is refunded, its payment
--   refunded or its show cancelled (void wins over used: such a ticket must not let anyone in
--   again), else TICKET_ALREADY_USED with the first check-in time.
-- * p_ticket comes from a code whose signature the service verified (ticket-codes.ts); a signed
--   ticket the database does not know is TICKET_VOID.
CREATE OR REPLACE FUNCTION check_in_ticket(p_ticket uuid, p_at timestamptz)
RETURNS TABLE (out_refusal text, out_body jsonb) LANGUAGE plpgsql AS $$
DECLARE
  v_ticket record;
  v_now record;
  v_body jsonb;
BEGIN
  UPDATE reservations r SET checked_in_at = p_at
    FROM payments p, shows sh
    WHERE r.id = p_ticket AND r.checked_in_at IS NULL AND r.status = 'CONFIRMED'
      AND p.id = r.payment_id AND p.status = 'PAID'
      AND sh.id = r.show_id AND sh.cancelled_at IS NULL
    RETURNING r.id, r.show_id, r.seat_number, r.concert_id, r.payment_id, r.user_id, sh.date INTO v_ticket;
  IF FOUND THEN
    SELECT jsonb_build_object('ticketId', v_ticket.id, 'date', v_ticket.date::text,
        'seatNumber', v_ticket.seat_number, 'section', ss.name, 'row', s.row_no, 'number', s.number_in_row,
        'checkedInAt', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
      INTO v_body
      FROM seats s JOIN show_sections ss ON ss.show_id = s.show_id AND ss.section_no = s.section_no
      WHERE s.show_id = v_ticket.show_id AND s.seat_number = v_ticket.seat_number;
    PERFORM record_event('ticket.checked_in', v_body || jsonb_build_object('concertId', v_ticket.concert_id,
      'paymentId', v_ticket.payment_id, 'userId', v_ticket.user_id), p_at);
    RETURN QUERY SELECT NULL::text, v_body;
    RETURN;
  END IF;
  SELECT r.status, r.checked_in_at, p.status AS payment_status, sh.cancelled_at INTO v_now
    FROM reservations r
    LEFT JOIN payments p ON p.id = r.payment_id
    JOIN shows sh ON sh.id = r.show_id
    WHERE r.id = p_ticket;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'TICKET_VOID'::text, '{}'::jsonb;
    RETURN;
  END IF;
  IF v_now.status <> 'CONFIRMED' OR v_now.payment_status IS DISTINCT FROM 'PAID' OR v_now.cancelled_at IS NOT NULL THEN
    RETURN QUERY SELECT 'TICKET_VOID'::text, '{}'::jsonb;
    RETURN;
  END IF;
  RETURN QUERY SELECT 'TICKET_ALREADY_USED'::text, jsonb_build_object('checkedInAt',
    to_char(v_now.checked_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
END;
$$;
