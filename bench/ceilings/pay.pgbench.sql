-- The payment's SQL as src/payments/payments.service.ts sends it (one call of
-- pay_reservations with a one-element array), with an Idempotency-Key. Each client pays its own
-- held reservations in turn (ceilings.ts holds them beforehand: reservation n = client *
-- per_client + i, of user n % users + 1), so every transaction does a winning payment's work.
\set i :i + 1
\set n :client_id * :per_client + :i
\set u :n % :users + 1
SELECT * FROM pay_reservations(
  ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid, '00000000-0000-4000-8000-000000000000',
  ARRAY[('00000000-0000-4000-a000-' || lpad(:n::text, 12, '0'))::uuid],
  gen_random_uuid(), gen_random_uuid(), now(), gen_random_uuid()::text, 'fingerprint');
