-- The hold rules in SQL, written once: every statement that asks "is this hold live?" or "is this
-- seat free?" calls these (their TypeScript twins are in reservation-rules.ts).
--
-- A hold is live while its reservation is HELD and its expiry is still ahead. A seat is free when
-- it is not sold and carries no live hold, so a lapsed hold is free the instant it lapses: nothing
-- has to clear it first (the sweeper only rewrites history).
--
-- The predicates are plain SQL expressions, IMMUTABLE and not STRICT, so the planner inlines them
-- into the calling statement and still matches the partial indexes on status = 'HELD'. The one
-- rule that reads a table, a buyer's live-hold count (live_holds, last), is a function of its own.

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
--> statement-breakpoint
-- How many live holds a buyer has on a concert: what the per-buyer hold limit counts.
--
-- Planned on every call (plan_cache_mode), never from a plan a connection kept since its first
-- calls. Made while reservations was nearly empty, such a plan may walk the index of every live
-- hold by expiry (as cheap as any on an empty table) and then read all of a sale's holds for each
-- new one: holds got slower as the sale went on. Planned for the table as it is, the buyer's own
-- index wins by its estimate, statistics or not (test/db/plans.test.ts).
CREATE OR REPLACE FUNCTION live_holds(p_user uuid, p_concert uuid, p_at timestamptz)
RETURNS integer LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_held integer;
BEGIN
  SELECT count(*)::integer INTO v_held FROM reservations r
    WHERE r.user_id = p_user AND r.concert_id = p_concert AND hold_is_live(r.status, r.hold_expires_at, p_at);
  RETURN v_held;
END;
$$;
