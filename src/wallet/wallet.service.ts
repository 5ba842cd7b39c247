import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { wallets, walletTransactions } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { type Outcome, runIdempotent } from '../shared/idempotency.js';
import { isChargeAmount, MAX_BALANCE, MAX_CHARGE } from '../shared/money.js';

export interface ChargeResult {
  userId: string;
  balance: number;
  charged: number;
  transactionId: string;
}

/**
 * The prepaid balance and its ledger. Every change of a balance is one conditional UPDATE
 * (the limit or the funds are checked by the statement itself, under the row lock) followed
 * by its ledger row in the same transaction, so the balance always equals the ledger's sum.
 */
export class WalletService {
  constructor(private readonly db: Db) {}

  async balance(userId: string): Promise<number> {
    const [row] = await this.db
      .select({ balance: wallets.balance })
      .from(wallets)
      .where(eq(wallets.userId, userId));
    return row?.balance ?? 0;
  }

  async charge(
    userId: string,
    amount: number,
    now: number,
    key: string | undefined,
    fingerprint: string,
  ): Promise<Outcome> {
    // The route's schema already refuses these; the service keeps its own boundary.
    if (!isChargeAmount(amount)) {
      throw new AppError('VALIDATION_FAILED', `amount must be a whole number of won, 1 to ${MAX_CHARGE}`);
    }
    return runIdempotent(this.db, { userId, key, fingerprint }, now, async (tx) => {
      const [row] = rowsOf<{ balance: number }>(
        await tx.execute(sql`
          INSERT INTO ${wallets} (user_id, balance) VALUES (${userId}, ${amount})
          ON CONFLICT (user_id) DO UPDATE SET balance = ${wallets.balance} + EXCLUDED.balance
          WHERE ${wallets.balance} + EXCLUDED.balance <= ${MAX_BALANCE}
          RETURNING balance`),
      );
      if (!row) {
        throw new AppError(
          'BALANCE_LIMIT_EXCEEDED',
          `A balance may not exceed ${MAX_BALANCE} won; nothing was charged`,
        );
      }
      const transactionId = await this.record(tx, userId, 'CHARGE', amount, row.balance, now);
      const body: ChargeResult = { userId, balance: row.balance, charged: amount, transactionId };
      return { status: 200, body };
    });
  }

  /**
   * Takes `amount` from the balance inside the caller's transaction, or throws
   * INSUFFICIENT_BALANCE. Returns the balance left and the ledger entry's id.
   */
  async debit(
    tx: Tx,
    userId: string,
    amount: number,
    now: number,
  ): Promise<{ balance: number; transactionId: string }> {
    const [row] = rowsOf<{ balance: number }>(
      await tx.execute(sql`
        UPDATE ${wallets} SET balance = balance - ${amount}
        WHERE user_id = ${userId} AND balance >= ${amount}
        RETURNING balance`),
    );
    if (!row)
      throw new AppError('INSUFFICIENT_BALANCE', `The balance does not cover ${amount} won; charge it first`);
    const transactionId = await this.record(tx, userId, 'PAYMENT', -amount, row.balance, now);
    return { balance: row.balance, transactionId };
  }

  private async record(
    tx: Executor,
    userId: string,
    type: 'CHARGE' | 'PAYMENT' | 'REFUND',
    amount: number,
    balanceAfter: number,
    now: number,
  ): Promise<string> {
    const id = randomUUID();
    await tx
      .insert(walletTransactions)
      .values({ id, userId, type, amount, balanceAfter, createdAt: new Date(now) });
    return id;
  }

  async history(userId: string) {
    const rows = await this.db
      .select()
      .from(walletTransactions)
      .where(eq(walletTransactions.userId, userId))
      .orderBy(desc(walletTransactions.seq));
    return rows.map((r) => ({
      transactionId: r.id,
      type: r.type,
      amount: r.amount,
      balanceAfter: r.balanceAfter,
      createdAt: r.createdAt.toISOString(),
    }));
  }
}
