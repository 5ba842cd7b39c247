/**
 * The line's settings and a WAITING view as the queue store's types have them (queue-store.ts
 * names this module in its interface, so this one spells them out rather than import them
 * back); a WaitingView is a TicketView.
 */
interface PictureSettings {
  maxActive: number;
  admitPerSecond: number;
  paused: boolean;
}

interface WaitingView {
  state: 'WAITING';
  position: number;
  admissions: { count: number; spanMs: number };
  settings: PictureSettings;
}

/**
 * A compact picture of one line, from which an instance computes any waiter's exact position
 * in process: one bit per ticket (1 = WAITING) from the head of the line to its last ticket,
 * and what a WAITING view shows beside the position. A million waiters are 125 KB; a refresh
 * while nothing moves is one small Redis call, and while the line moves it brings only what
 * changed (see lua/picture-10.lua).
 *
 * A waiter's position is 1 + the WAITING tickets below it: the set bits from the head to its
 * own. Block counts (prefix sums per 64 bytes) make that O(64) per waiter.
 */
export interface PictureData {
  /** Last ticket issued. */
  seq: number;
  /** Tickets at or below base were issued before the line lost its data. */
  base: number;
  /** The ticket of bit 0 (the Redis store's seenBase; the in-process line's first slot). */
  firstTicket: number;
  /** Bumped by every change a copy cannot infer from head and seq (see lua/includes/seen.lua). */
  cut: number;
  /** The lowest WAITING ticket, or seq + 1 when nobody waits. */
  head: number;
  /** Bits from byte `fromByte` on (bit 0 of the line = most significant bit of byte 0). */
  fromByte: number;
  bytes: Uint8Array;
  /** The admission sample as a WAITING view shows it: count, and the oldest (ms) or null. */
  admissionsCount: number;
  oldestAdmission: number | null;
  settings: PictureSettings;
}

const BLOCK_BYTES = 64;

function popcount8(b: number): number {
  let v = b - ((b >>> 1) & 0x55);
  v = (v & 0x33) + ((v >>> 2) & 0x33);
  return (v + (v >>> 4)) & 0x0f;
}

export class LinePicture {
  /** Set bits before each block of BLOCK_BYTES bytes of `bytes`. */
  private readonly before: Int32Array;
  /** When this picture was taken (the caller's clock, ms). */
  readonly takenAt: number;

  constructor(
    readonly data: PictureData,
    takenAt: number,
  ) {
    this.takenAt = takenAt;
    const blocks = Math.ceil(data.bytes.length / BLOCK_BYTES);
    this.before = new Int32Array(blocks + 1);
    for (let b = 0; b < blocks; b++) {
      let n = 0;
      const end = Math.min(data.bytes.length, (b + 1) * BLOCK_BYTES);
      for (let i = b * BLOCK_BYTES; i < end; i++) n += popcount8(data.bytes[i]!);
      this.before[b + 1] = this.before[b]! + n;
    }
  }

  /** Set bits of the slots below `slot` that `bytes` holds. */
  private onesBelow(slot: number): number {
    const rel = slot - this.data.fromByte * 8;
    if (rel <= 0) return 0;
    const { bytes } = this.data;
    if (rel >= bytes.length * 8) return this.before[this.before.length - 1]!;
    const byte = rel >> 3;
    const block = Math.floor(byte / BLOCK_BYTES);
    let n = this.before[block]!;
    for (let i = block * BLOCK_BYTES; i < byte; i++) n += popcount8(bytes[i]!);
    const bits = rel & 7;
    if (bits > 0) n += popcount8(bytes[byte]! >> (8 - bits));
    return n;
  }

  private bit(slot: number): boolean {
    const rel = slot - this.data.fromByte * 8;
    if (rel < 0 || rel >= this.data.bytes.length * 8) return false;
    return ((this.data.bytes[rel >> 3]! >> (7 - (rel & 7))) & 1) === 1;
  }

  /**
   * The ticket's position when the picture shows it WAITING, else undefined (ACTIVE, EXPIRED,
   * or issued after the picture was taken: the store has to answer).
   */
  position(ticket: number): number | undefined {
    const { head, seq, base, firstTicket } = this.data;
    if (ticket <= base || ticket < head || ticket > seq) return undefined;
    const slot = ticket - firstTicket;
    if (!this.bit(slot)) return undefined;
    return 1 + this.onesBelow(slot) - this.onesBelow(head - firstTicket);
  }

  /** The WAITING view of a ticket the picture shows waiting, at `now`; else undefined. */
  view(ticket: number, now: number): WaitingView | undefined {
    const position = this.position(ticket);
    if (position === undefined) return undefined;
    const { admissionsCount, oldestAdmission, settings } = this.data;
    const admissions = {
      count: admissionsCount,
      spanMs: oldestAdmission === null ? 0 : now - oldestAdmission,
    };
    return { state: 'WAITING', position, admissions, settings: { ...settings } };
  }

  /**
   * The bytes of a refresh laid over this copy: `fresh` starts at byte `fresh.fromByte`; what
   * this copy holds below it (from the new head's byte on) is kept, as the refresh promised by
   * matching seenBase and cut.
   */
  merge(fresh: PictureData, takenAt: number): LinePicture {
    const { data } = this;
    const keepFrom = Math.floor(Math.max(0, fresh.head - fresh.firstTicket) / 8);
    if (
      fresh.firstTicket !== data.firstTicket ||
      fresh.cut !== data.cut ||
      fresh.fromByte <= keepFrom ||
      keepFrom < data.fromByte
    ) {
      return new LinePicture(fresh, takenAt);
    }
    const kept = data.bytes.subarray(keepFrom - data.fromByte, fresh.fromByte - data.fromByte);
    const bytes = new Uint8Array(kept.length + fresh.bytes.length);
    bytes.set(kept, 0);
    bytes.set(fresh.bytes, kept.length);
    return new LinePicture({ ...fresh, fromByte: keepFrom, bytes }, takenAt);
  }
}
