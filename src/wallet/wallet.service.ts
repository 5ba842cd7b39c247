import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { wallets, walletTransactions } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { type Outcome, outcomeOf, type WriteAnswer } from '../shared/idempotency.js';
import { isChargeAmount, MAX_BALANCE, MAX_CHARGE } from '../shared/money.js';

export interface ChargeResult {
  userId: string;
  balance: number;
  charged: number;
  transactionId: string;
}

/**
 * The prepaid balance and its ledger. Every change of a balance is made by the database in one
 * statement with its ledger row (charge_balance in charge-balance.sql, the debit in
 * pay_reservation), so the balance always equals the ledger's sum.
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

  /** Adds `amount` to the balance: one call of charge_balance, one round trip. */
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
    const [answer] = rowsOf<WriteAnswer>(
      await this.db.execute(sql`
        SELECT out_refusal AS refusal, out_status AS status, out_body AS body, out_replayed AS replayed
        FROM charge_balance(${userId}::uuid, ${amount}::integer, ${randomUUID()}::uuid,
          ${new Date(now)}::timestamptz, ${MAX_BALANCE}::integer, ${key ?? null}::text, ${fingerprint}::text)`),
    );
    return outcomeOf(
      this.db,
      { userId, key, fingerprint },
      now,
      answer!,
      () =>
        new AppError(
          'BALANCE_LIMIT_EXCEEDED',
          `A balance may not exceed ${MAX_BALANCE} won; nothing was charged`,
        ),
    );
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
