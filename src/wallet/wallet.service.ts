import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type Outcome, outcomeOf } from '../db/idempotency.js';
import { wallets, walletTransactions } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { isChargeAmount, MAX_BALANCE, MAX_CHARGE } from '../shared/money.js';

/**
 * The prepaid balance and its ledger. Every change of a balance is made by the database in one
 * statement with its ledger row (charge_balance in charge-balance.sql, the debit in
 * pay_reservation), so the balance always equals the ledger's sum.
 */
export class WalletService {
  /** Prepared once per connection, as the pgbench ceiling runs it: no parse or plan per charge. */
  private readonly chargeBalance;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.chargeBalance = db
      .select({
        refusal: sql<string | null>`out_refusal`,
        status: sql<number | null>`out_status`,
        body: sql<unknown>`out_body`,
        replayed: sql<boolean>`out_replayed`,
      })
      .from(
        sql`charge_balance(${p('user')}::uuid, ${p('amount')}::integer, ${p('transaction')}::uuid,
          ${p('at')}::timestamptz, ${p('max')}::integer, ${p('key')}::text, ${p('fingerprint')}::text)`,
      )
      .prepare('charge_balance');
  }

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
    const [answer] = await this.chargeBalance.execute({
      user: userId,
      amount,
      transaction: randomUUID(),
      at: new Date(now),
      max: MAX_BALANCE,
      key: key ?? null,
      fingerprint,
    });
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
