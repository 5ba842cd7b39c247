/** What an attempt to hold a seat found, as far as other buyers of that seat are concerned. */
export type TurnVerdict = 'HELD' | 'UNAVAILABLE' | 'UNKNOWN';

interface Turn {
  /** When its attempt left for the database, on this instance's sequence of events. */
  sentAt: number;
  verdict: Promise<TurnVerdict>;
}

/**
 * Concurrent holds of one seat on this instance go to the database one attempt at a time, and
 * an attempt's verdict answers the buyers who waited on it when it settles the question for
 * them too. When hundreds of buyers press the same seat at once, losers are answered as soon
 * as one attempt has settled, instead of each queuing for a database connection behind it.
 *
 * The database still decides every hold (hold_seat); this only skips attempts whose answer is
 * already known, and only when that answer was true at some moment of the waiting request:
 * - HELD: the seat was held by the attempt's buyer when it committed, which is after the
 *   waiter arrived (its attempt was still in flight), so "taken" is a true answer.
 * - UNAVAILABLE: the database found the seat held or sold; true for a waiter only if the
 *   attempt left after the waiter arrived (an older reading may predate a cancellation).
 * - anything else (the attempt's buyer reached their hold limit, or the call failed) says
 *   nothing about the seat: the next waiter makes its own attempt.
 * Across instances nothing is shared: each instance's attempts meet in the database.
 */
export class SeatTurns {
  private events = 0;
  private readonly turns = new Map<string, Turn>();

  /**
   * Runs `attempt` for this seat when no attempt is in flight that answers this request too;
   * returns 'TAKEN' when one did.
   */
  async take<T>(
    seat: string,
    attempt: () => Promise<T>,
    verdictOf: (result: T) => TurnVerdict,
  ): Promise<T | 'TAKEN'> {
    const arrived = ++this.events;
    for (let turn = this.turns.get(seat); turn; turn = this.turns.get(seat)) {
      const verdict = await turn.verdict;
      if (verdict === 'HELD' || (verdict === 'UNAVAILABLE' && turn.sentAt > arrived)) return 'TAKEN';
    }
    const result = attempt();
    const turn: Turn = {
      sentAt: ++this.events,
      verdict: result.then(verdictOf, () => 'UNKNOWN' as const),
    };
    this.turns.set(seat, turn);
    // Registered before any waiter's await on the verdict, so it runs first: woken waiters
    // find the seat free of turns, and the first of them starts the next one.
    void turn.verdict.then(() => {
      if (this.turns.get(seat) === turn) this.turns.delete(seat);
    });
    return result;
  }

  /** Seats with an attempt in flight (bounded by requests in flight). */
  get size(): number {
    return this.turns.size;
  }
}
