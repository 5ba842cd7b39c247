-- A concert's line may ask every join for a proof of work (API.md "Proof of work against bots");
-- off unless an operator turns it on. Kept here with the other queue settings, so a Redis that
-- comes back empty can never turn it off.
ALTER TABLE "concert_sales" ADD COLUMN IF NOT EXISTS "challenge" boolean DEFAULT false NOT NULL;
