-- The hold rules in SQL, written once: every statement that asks "is this hold live?" or "is this
-- seat free?" calls these (their TypeScript twins are in reservation-rules.ts).
--
-- A hold is live while its reservation is HELD and its expiry is still ahead. A seat is free when
-- it is not sold and carries no live hold, so a lapsed hold is free the instant it lapses: nothing
-- has to clear it first (the sweeper only rewrites history).
--
-- Plain SQL expressions, IMMUTABLE and not STRICT, so the planner inlines them into the calling
-- statement and still matches the partial indexes on status = 'HELD'.

CREATE OR REPLACE FUNCTION hold_is_live(p_status text, p_expires timestamptz, p_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_status = 'HELD' AND p_expires > p_at
$$;
--> statement-breakpoint
-- A HELD reservation whose hold is over: what the sweeper rewrites as EXPIRED.
CREATE OR REPLACE FUNCTION hold_has_lapsed(p_status text, p_expires timestamptz, p_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_status = 'HELD' AND p_expires <= p_at
$$;
--> statement-breakpoint
-- What a reservation is at p_at: a lapsed hold reads EXPIRED whether or not the sweeper ran.
CREATE OR REPLACE FUNCTION reservation_status(p_status text, p_expires timestamptz, p_at timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN hold_has_lapsed(p_status, p_expires, p_at) THEN 'EXPIRED' ELSE p_status END
$$;
--> statement-breakpoint
-- A seat nobody bought and nobody holds at p_at (its hold, if any, has lapsed).
CREATE OR REPLACE FUNCTION seat_is_free(p_sold boolean, p_hold_expires timestamptz, p_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT NOT p_sold AND (p_hold_expires IS NULL OR p_hold_expires <= p_at)
$$;
