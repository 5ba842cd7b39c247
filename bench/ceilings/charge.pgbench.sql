-- The charge's SQL as src/wallet/wallet.service.ts sends it (one call of charge_balance), with an
-- Idempotency-Key of its own per charge as the bench's charge scenario sends one.
\set u random(1, :users)
SELECT * FROM charge_balance(
  ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid, 1, gen_random_uuid(), now(), 1000000000,
  gen_random_uuid()::text, 'fingerprint');
