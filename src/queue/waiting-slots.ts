/**
 * The WAITING tickets of one in-process line, in ticket order: who holds each and when each
 * was last seen, with a ticket's position (its rank) in O(log n).
 *
 * Tickets are numbered slots (ticket − the line's base) and arrive in increasing order, so they
 * fill fixed blocks of 1024 slots from the back: a bitmap marks who is still waiting, a typed
 * array holds last-seen times, and a Fenwick tree over the blocks' counts gives the waiters
 * before a block. Blocks are freed once emptied, and the front ones dropped, so memory follows
 * the line as it is, not every ticket ever issued, and nothing is ever rebuilt in O(n log n):
 * the Fenwick tree is rebuilt in O(blocks) when blocks are dropped or added past its size.
 */

const BLOCK_BITS = 10;
const BLOCK = 1 << BLOCK_BITS;
const WORDS = BLOCK / 32;

interface Block {
  bits: Uint32Array;
  seen: Float64Array;
  users: (string | undefined)[];
  count: number;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Counts per index with prefix sums in O(log n); built in O(n) from the counts. */
export class Fenwick {
  private tree: Int32Array;

  constructor(counts: ArrayLike<number>, capacity = counts.length) {
    this.tree = new Int32Array(Math.max(1, capacity) + 1);
    for (let i = 0; i < counts.length; i++) this.tree[i + 1] = counts[i]!;
    for (let i = 1; i < this.tree.length; i++) {
      const parent = i + (i & -i);
      if (parent < this.tree.length) this.tree[parent]! += this.tree[i]!;
    }
  }

  get capacity(): number {
    return this.tree.length - 1;
  }

  add(index: number, delta: number): void {
    for (let i = index + 1; i < this.tree.length; i += i & -i) this.tree[i]! += delta;
  }

  /** Sum of the counts at indexes 0 … index − 1. */
  before(index: number): number {
    let sum = 0;
    for (let i = Math.min(index, this.tree.length - 1); i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }
}

export class WaitingSlots {
  /** blocks[j] holds slots of block number firstBlock + j; undefined once emptied. */
  private blocks: (Block | undefined)[] = [];
  private firstBlock = 0;
  private counts = new Fenwick([]);
  size = 0;

  private block(slot: number): Block | undefined {
    return this.blocks[(slot >> BLOCK_BITS) - this.firstBlock];
  }

  /** Adds a slot behind every slot present. */
  add(slot: number, user: string, seen: number): void {
    const number = slot >> BLOCK_BITS;
    if (this.blocks.length === 0) this.firstBlock = number;
    const j = number - this.firstBlock;
    if (j < 0) throw new Error(`slot ${slot} is not behind the line`);
    let block = this.blocks[j];
    if (!block) {
      block = { bits: new Uint32Array(WORDS), seen: new Float64Array(BLOCK), users: [], count: 0 };
      while (this.blocks.length <= j) this.blocks.push(undefined);
      this.blocks[j] = block;
      if (j >= this.counts.capacity) this.rebuild(Math.max(16, 2 * (j + 1)));
    }
    const offset = slot & (BLOCK - 1);
    block.bits[offset >> 5]! |= 1 << (offset & 31);
    block.seen[offset] = seen;
    block.users[offset] = user;
    block.count++;
    this.counts.add(j, 1);
    this.size++;
  }

  has(slot: number): boolean {
    const block = this.block(slot);
    if (!block) return false;
    const offset = slot & (BLOCK - 1);
    return (block.bits[offset >> 5]! & (1 << (offset & 31))) !== 0;
  }

  userAt(slot: number): string | undefined {
    return this.has(slot) ? this.block(slot)!.users[slot & (BLOCK - 1)] : undefined;
  }

  seenAt(slot: number): number {
    return this.has(slot) ? this.block(slot)!.seen[slot & (BLOCK - 1)]! : 0;
  }

  touch(slot: number, now: number): void {
    if (this.has(slot)) this.block(slot)!.seen[slot & (BLOCK - 1)] = now;
  }

  remove(slot: number): void {
    if (!this.has(slot)) return;
    const j = (slot >> BLOCK_BITS) - this.firstBlock;
    const block = this.blocks[j]!;
    const offset = slot & (BLOCK - 1);
    block.bits[offset >> 5]! &= ~(1 << (offset & 31));
    block.users[offset] = undefined;
    block.count--;
    this.counts.add(j, -1);
    this.size--;
    if (block.count === 0) {
      this.blocks[j] = undefined;
      if (j === 0) this.dropFront();
    }
  }

  /** How many slots up to and including this one are present. */
  rank(slot: number): number {
    const j = (slot >> BLOCK_BITS) - this.firstBlock;
    if (j < 0) return 0;
    if (j >= this.blocks.length) return this.size;
    let sum = this.counts.before(j);
    const block = this.blocks[j];
    if (block) {
      const offset = slot & (BLOCK - 1);
      const word = offset >> 5;
      for (let w = 0; w < word; w++) sum += popcount(block.bits[w]!);
      const bit = offset & 31;
      sum += popcount(block.bits[word]! & (bit === 31 ? 0xffffffff : (1 << (bit + 1)) - 1));
    }
    return sum;
  }

  /** The first present slot after `slot` (−1: from the front), or undefined. */
  next(slot: number): number | undefined {
    const start = Math.max(slot + 1, this.firstBlock << BLOCK_BITS);
    for (let j = (start >> BLOCK_BITS) - this.firstBlock; j < this.blocks.length; j++) {
      const block = this.blocks[j];
      if (!block) continue;
      const blockStart = (this.firstBlock + j) << BLOCK_BITS;
      const from = Math.max(0, start - blockStart);
      for (let w = from >> 5; w < WORDS; w++) {
        let bits = block.bits[w]!;
        if (w === from >> 5) bits &= ~((1 << (from & 31)) - 1);
        if (bits !== 0) return blockStart + (w << 5) + (31 - Math.clz32(bits & -bits));
      }
    }
    return undefined;
  }

  first(): number | undefined {
    return this.next(-1);
  }

  private dropFront(): void {
    let drop = 0;
    while (drop < this.blocks.length && this.blocks[drop] === undefined) drop++;
    this.blocks = this.blocks.slice(drop);
    this.firstBlock += drop;
    this.rebuild(Math.max(16, this.counts.capacity));
  }

  private rebuild(capacity: number): void {
    const counts = this.blocks.map((b) => b?.count ?? 0);
    this.counts = new Fenwick(counts, Math.max(capacity, counts.length));
  }
}
