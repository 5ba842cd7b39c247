-- The hold's transaction as src/reservations/reservations.service.ts sends it, on seats
-- prepared by ceilings.ts: the hold lapses at once (hold_expires_at = now()), so every
-- transaction finds its seat free and does the full work, as a winning hold does.
\set u random(1, :users)
\set s random(0, :seats - 1)
BEGIN;
SELECT 1 FROM users WHERE id = ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid FOR NO KEY UPDATE;
SELECT count(*)::int AS n FROM reservations
  WHERE user_id = ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid
    AND concert_id = '00000000-0000-4000-8000-000000000000' AND status = 'HELD' AND hold_expires_at > now();
WITH seat AS (
  UPDATE seats SET reservation_id = gen_random_uuid(), hold_expires_at = now()
  WHERE show_id = ('00000000-0000-4000-9000-' || lpad((:s / 200)::text, 12, '0'))::uuid
    AND seat_number = :s % 200 + 1 AND NOT sold
    AND (hold_expires_at IS NULL OR hold_expires_at <= now())
  RETURNING price, show_id, seat_number)
INSERT INTO reservations
  (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid,
       '00000000-0000-4000-8000-000000000000', show_id, '2099-01-01', seat_number, price, 'HELD', now(), now()
FROM seat;
COMMIT;
