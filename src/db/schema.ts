// Every table in one file, over 300 lines on purpose: drizzle-kit and both drivers take one schema
// module, and a table's constraints read best next to the tables they join.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable('users', {
  id: uuid('id').primaryKey(),
  name: text('name'),
  createdAt: ts('created_at').notNull(),
});

/** One row per user who ever charged; no row reads as a balance of 0. */
export const wallets = pgTable(
  'wallets',
  {
    userId: uuid('user_id')
      .primaryKey()
      .references(() => users.id),
    balance: integer('balance').notNull(),
  },
  (t) => [check('wallets_balance_range', sql`${t.balance} BETWEEN 0 AND 1000000000`)],
);

/**
 * Append-only (a trigger refuses UPDATE and DELETE): amounts are signed, so the sum of a
 * user's rows is the balance. `seq` orders entries written in the same millisecond.
 */
export const walletTransactions = pgTable(
  'wallet_transactions',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    type: text('type', { enum: ['CHARGE', 'PAYMENT', 'REFUND'] }).notNull(),
    amount: integer('amount').notNull(),
    balanceAfter: integer('balance_after').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('wallet_transactions_user_idx').on(t.userId, t.seq),
    check('wallet_transactions_balance_after_range', sql`${t.balanceAfter} BETWEEN 0 AND 1000000000`),
  ],
);

export const concerts = pgTable('concerts', {
  id: uuid('id').primaryKey(),
  title: text('title').notNull(),
  venue: text('venue').notNull(),
  createdAt: ts('created_at').notNull(),
});

/** A concert on one date: a show with its own seats. */
export const shows = pgTable(
  'shows',
  {
    id: uuid('id').primaryKey(),
    concertId: uuid('concert_id')
      .notNull()
      .references(() => concerts.id),
    date: date('date', { mode: 'string' }).notNull(),
    totalSeats: integer('total_seats').notNull(),
    /** Set once when the operator cancels the date (migration 0008): it sells nothing from then on. */
    cancelledAt: ts('cancelled_at'),
    /** Set when the cancelled date's last payment has been refunded. */
    cancelDoneAt: ts('cancel_done_at'),
  },
  (t) => [
    uniqueIndex('shows_concert_date_key').on(t.concertId, t.date),
    index('shows_cancelling_idx')
      .on(t.cancelledAt)
      .where(sql`${t.cancelledAt} IS NOT NULL AND ${t.cancelDoneAt} IS NULL`),
  ],
);

/**
 * A show's seating plan (migration 0007): sections in plan order (best first), each the seat
 * numbers first_seat..last_seat, `rowSeats[k]` seats in row k + 1. Never changes once created.
 */
export const showSections = pgTable(
  'show_sections',
  {
    showId: uuid('show_id')
      .notNull()
      .references(() => shows.id),
    sectionNo: smallint('section_no').notNull(),
    name: text('name').notNull(),
    grade: text('grade').notNull(),
    price: integer('price').notNull(),
    firstSeat: integer('first_seat').notNull(),
    lastSeat: integer('last_seat').notNull(),
    rowSeats: smallint('row_seats').array().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.showId, t.sectionNo] }),
    uniqueIndex('show_sections_name_key').on(t.showId, t.name),
    check('show_sections_price_range', sql`${t.price} BETWEEN 1 AND 10000000`),
  ],
);

/**
 * The seat row is what a hold contends on. A seat is SOLD when `sold`; HELD while
 * `hold_expires_at` is in the future; AVAILABLE otherwise, so a lapsed hold is free the
 * instant it lapses without anything having to clear it.
 */
export const seats = pgTable(
  'seats',
  {
    showId: uuid('show_id')
      .notNull()
      .references(() => shows.id),
    seatNumber: integer('seat_number').notNull(),
    price: integer('price').notNull(),
    reservationId: uuid('reservation_id'),
    holdExpiresAt: ts('hold_expires_at'),
    sold: boolean('sold').notNull().default(false),
    /** Where the seat is: its section (show_sections.section_no), row (1 = front) and place in the row. */
    sectionNo: smallint('section_no').notNull(),
    rowNo: smallint('row_no').notNull(),
    numberInRow: smallint('number_in_row').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.showId, t.seatNumber] }),
    // What best-available walks and what "seats left" counts: sold seats stay out of both.
    index('seats_unsold_idx').on(t.showId, t.seatNumber).where(sql`NOT ${t.sold}`),
    check('seats_price_range', sql`${t.price} BETWEEN 1 AND 10000000`),
  ],
);

export const reservations = pgTable(
  'reservations',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    concertId: uuid('concert_id')
      .notNull()
      .references(() => concerts.id),
    showId: uuid('show_id')
      .notNull()
      .references(() => shows.id),
    date: date('date', { mode: 'string' }).notNull(),
    seatNumber: integer('seat_number').notNull(),
    price: integer('price').notNull(),
    /** Stored status; a HELD row whose hold has lapsed reads as EXPIRED (see reservation rules). */
    status: text('status', { enum: ['HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED', 'REFUNDED'] }).notNull(),
    holdExpiresAt: ts('hold_expires_at').notNull(),
    createdAt: ts('created_at').notNull(),
    /** The payment that bought it (one payment may cover several seats of a show). */
    paymentId: uuid('payment_id'),
    /** When its ticket entered the gate (one conditional update decides the first scan). */
    checkedInAt: ts('checked_in_at'),
  },
  (t) => [
    index('reservations_payment_idx').on(t.paymentId).where(sql`${t.paymentId} IS NOT NULL`),
    index('reservations_user_idx').on(t.userId, t.createdAt),
    index('reservations_user_concert_held_idx').on(t.userId, t.concertId).where(sql`${t.status} = 'HELD'`),
    index('reservations_held_expiry_idx').on(t.holdExpiresAt).where(sql`${t.status} = 'HELD'`),
    // The last line of defence against a double sale: one confirmed reservation per seat.
    uniqueIndex('reservations_one_sale_per_seat')
      .on(t.showId, t.seatNumber)
      .where(sql`${t.status} = 'CONFIRMED'`),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey(),
    reservationId: uuid('reservation_id')
      .notNull()
      .unique()
      .references(() => reservations.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    concertId: uuid('concert_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    seatNumber: integer('seat_number').notNull(),
    amount: integer('amount').notNull(),
    /** The balance left right after this payment, as the receipt shows it. */
    balanceAfter: integer('balance_after').notNull(),
    paidAt: ts('paid_at').notNull(),
    showId: uuid('show_id')
      .notNull()
      .references(() => shows.id),
    status: text('status', { enum: ['PAID', 'REFUNDED'] })
      .notNull()
      .default('PAID'),
    /** What went back to the balance, and what was kept, when REFUNDED. */
    refunded: integer('refunded'),
    refundFee: integer('refund_fee'),
    refundedAt: ts('refunded_at'),
  },
  (t) => [
    index('payments_user_idx').on(t.userId, t.paidAt),
    // What a cancelled show's refund job walks.
    index('payments_show_paid_idx').on(t.showId).where(sql`${t.status} = 'PAID'`),
  ],
);

/** The first response to an idempotent write, replayed for retries with the same key. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * A concert's sale as its operator set it (migration 0005). PostgreSQL is the truth; the queue
 * store (Redis) only caches the settings, so a Redis that loses them never un-pauses a sale.
 * A null setting follows the config default. The draw seed is fixed, with its published
 * commitment, the first time an opening is scheduled, and revealed with the order once drawn.
 */
export const concertSales = pgTable('concert_sales', {
  concertId: uuid('concert_id')
    .primaryKey()
    .references(() => concerts.id),
  paused: boolean('paused'),
  maxActive: integer('max_active'),
  admitPerSecond: integer('admit_per_second'),
  saleOpensAt: ts('sale_opens_at'),
  drawSeed: text('draw_seed'),
  drawCommitment: text('draw_commitment'),
  /** Line tickets base+1 … base+n go to the drawn tickets, in drawn order. */
  drawBase: bigint('draw_base', { mode: 'number' }),
  drawTickets: jsonb('draw_tickets').$type<number[]>(),
  drawnAt: ts('drawn_at'),
  /** Every join of the line needs a proof of work (API.md "Proof of work against bots"). */
  challenge: boolean('challenge').notNull().default(false),
});

/**
 * The operator's live charts (migration 0005): one row per concert per sampling period, written
 * by whichever instance claimed the period, kept for 30 minutes. Every instance shows the same.
 */
export const saleSamples = pgTable(
  'sale_samples',
  {
    concertId: uuid('concert_id').notNull(),
    at: ts('at').notNull(),
    waiting: integer('waiting').notNull(),
    prequeued: integer('prequeued').notNull(),
    active: integer('active').notNull(),
    /** Admissions so far, summed over instances (sale_admissions at the time). */
    admitted: bigint('admitted', { mode: 'number' }).notNull(),
    held: integer('held').notNull(),
    sold: integer('sold').notNull(),
    revenue: bigint('revenue', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.concertId, t.at] }), index('sale_samples_at_idx').on(t.at)],
);

/** The sampling claim: one row; an instance samples a period only if it moves `last_at` forward. */
export const saleSampler = pgTable('sale_sampler', {
  id: integer('id').primaryKey(),
  lastAt: ts('last_at').notNull(),
});

/** Admissions per concert, summed over instances (each adds what its own steps admitted). */
export const saleAdmissions = pgTable('sale_admissions', {
  concertId: uuid('concert_id').primaryKey(),
  admitted: bigint('admitted', { mode: 'number' }).notNull(),
});

/** The Ed25519 keys that sign ticket codes (migration 0008); at most one generated key. */
export const ticketKeys = pgTable('ticket_keys', {
  kid: text('kid').primaryKey(),
  origin: text('origin', { enum: ['generated', 'configured'] }).notNull(),
  publicKey: text('public_key').notNull(),
  /** PKCS#8 PEM; kept for the generated key only (a configured key lives in TICKET_SIGNING_KEY). */
  privateKey: text('private_key'),
  createdAt: ts('created_at').notNull(),
});

/** The transactional outbox of webhook events (migration 0008, record-event.sql). */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: uuid('id').primaryKey(),
    type: text('type').notNull(),
    createdAt: ts('created_at').notNull(),
    data: jsonb('data').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    lastAttemptAt: ts('last_attempt_at'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    index('webhook_events_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_events_status_idx').on(t.status, t.createdAt),
  ],
);
