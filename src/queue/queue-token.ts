import { bytesToUuid, type Signer, TOKEN_KIND, uuidToBytes, VerifiedTokens } from '../auth/signer.js';

export interface QueueTokenClaims {
  concertId: string;
  userId: string;
  /** Arrival number within the concert's line. */
  ticket: number;
}

/** Tickets are numbered from the clock in ms × 1000 (~2^51), so they take 8 bytes. */
const PAYLOAD_BYTES = 16 + 16 + 8;

/**
 * A queue token names its concert, its user and its ticket number under the server's
 * signature, so it cannot be forged or edited, and the same ticket always yields the same
 * token (a user who joins again gets the identical string back).
 */
export class QueueTokens {
  private readonly verified = new VerifiedTokens<Readonly<QueueTokenClaims>>();

  constructor(private readonly signer: Signer) {}

  issue(claims: QueueTokenClaims): string {
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    uuidToBytes(claims.concertId).copy(payload, 0);
    uuidToBytes(claims.userId).copy(payload, 16);
    payload.writeBigUInt64BE(BigInt(claims.ticket), 32);
    return this.signer.sign(TOKEN_KIND.queue, payload);
  }

  verify(token: string): Readonly<QueueTokenClaims> | null {
    return this.verified.verify(token, (t) => {
      const payload = this.signer.open(TOKEN_KIND.queue, t);
      if (payload?.length !== PAYLOAD_BYTES) return null;
      const ticket = payload.readBigUInt64BE(32);
      if (ticket > BigInt(Number.MAX_SAFE_INTEGER)) return null;
      return Object.freeze({
        concertId: bytesToUuid(payload.subarray(0, 16)),
        userId: bytesToUuid(payload.subarray(16, 32)),
        ticket: Number(ticket),
      });
    });
  }
}
