-- The hold's SQL as src/reservations/reservations.service.ts sends it for one seat (one call of
-- hold_seats with a one-element array), on seats prepared by ceilings.ts. The hold lapses at once (expiry = now()), so every transaction
-- finds its seat free and does the full work, as a winning hold does.
\set u random(1, :users)
\set s random(0, :seats - 1)
SELECT * FROM hold_seats(
  ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000000',
  ('00000000-0000-4000-9000-' || lpad((:s / 200)::text, 12, '0'))::uuid, '2099-01-01',
  ARRAY[:s % 200 + 1], ARRAY[gen_random_uuid()], now(), now(), 50);
