/**
 * A Fenwick (binary indexed) tree over ticket numbers 1…n: marks which tickets are still
 * waiting and counts those up to a ticket in O(log n). That count is a waiting ticket's
 * position, so a status poll never scans the line. Grows as tickets are issued.
 */
export class FenwickTree {
  private tree = new Int32Array(1024);

  private grow(index: number): void {
    let size = this.tree.length;
    while (size <= index) size *= 2;
    // Rebuild: a Fenwick array cannot simply be extended, the new upper nodes need sums.
    const values = new Int32Array(size);
    for (let i = 1; i < this.tree.length; i++) values[i] = this.valueAt(i);
    this.tree = new Int32Array(size);
    for (let i = 1; i < this.tree.length; i++) if (values[i] !== 0) this.add(i, values[i]!);
  }

  private valueAt(index: number): number {
    return this.prefix(index) - this.prefix(index - 1);
  }

  add(index: number, delta: number): void {
    if (index >= this.tree.length) this.grow(index);
    for (let i = index; i < this.tree.length; i += i & -i) this.tree[i]! += delta;
  }

  /** Sum of values at 1…index. */
  prefix(index: number): number {
    let sum = 0;
    for (let i = Math.min(index, this.tree.length - 1); i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }
}
