import type { QueueService, QueueStatus } from '../queue/queue.service.js';
import type { ChallengeJoins } from './challenge-joins.js';
import type { ChallengeSettings } from './challenge-settings.js';
import type { ProofOfWork } from './proof-of-work.js';

/**
 * Joining a line, with the concert's proof of work (API.md "Proof of work against bots"):
 * 1. the concert's `challenge` is off: an ordinary join, any proof ignored;
 * 2. the user still holds a live ticket (every join remembers its ticket, challenge or not): the
 *    join gives it back, so no proof is asked and none is spent;
 * 3. otherwise the proof is redeemed first (403 CHALLENGE_FAILED, nothing written to the line),
 *    then the join takes its place.
 * Step 2 reads before the join writes: a ticket that lapses in between is replaced by a new
 * one at the back of the line without a proof. That gives a user nothing it did not have (one
 * ticket per user per line either way), so it is not worth a script of its own.
 */
export class ChallengedJoin {
  constructor(
    private readonly queue: QueueService,
    private readonly settings: ChallengeSettings,
    private readonly joins: ChallengeJoins,
    private readonly pow: ProofOfWork,
  ) {}

  async join(
    userId: string,
    concertId: string,
    proof: string | undefined,
  ): Promise<{ created: boolean; status: QueueStatus }> {
    // An unknown concert has no settings row: off, and the join answers 404 as before.
    if (!(await this.settings.isOn(concertId))) return this.remembered(userId, concertId);
    const remembered = await this.joins.ticketOf(concertId, userId);
    if (remembered !== null && (await this.queue.holdsLive(concertId, userId, remembered))) {
      return this.queue.join(userId, concertId);
    }
    await this.pow.redeem(proof);
    return this.remembered(userId, concertId);
  }

  /**
   * A join whose ticket is remembered, with the challenge off too: a buyer who joined before the
   * operator turned it on still rejoins without a proof.
   */
  private async remembered(userId: string, concertId: string) {
    const joined = await this.queue.join(userId, concertId);
    await this.joins.remember(concertId, userId, joined.status.ticket);
    return joined;
  }
}
