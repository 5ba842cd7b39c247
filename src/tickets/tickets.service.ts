import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.js';
import { AppError } from '../shared/errors.js';
import { signTicket, verifyTicket } from './ticket-codes.js';
import type { TicketKeys } from './ticket-keys.js';

export type TicketStatus = 'VALID' | 'USED' | 'VOID';

export interface TicketView {
  ticketId: string;
  paymentId: string;
  concertId: string;
  title: string;
  venue: string;
  date: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  grade: string;
  status: TicketStatus;
  /** When it entered the gate; null until then. */
  checkedInAt: string | null;
  code: string;
}

export interface CheckIn {
  ticketId: string;
  date: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  checkedInAt: string;
}

/** E-tickets: one per paid seat, each with a signed code, and their one check-in at the gate. */
export class TicketsService {
  constructor(
    private readonly db: Db,
    readonly keys: TicketKeys,
  ) {}

  /**
   * The user's tickets, newest payment first (seats of one payment in seat order). A ticket is
   * VOID once its seat or payment is refunded or its show cancelled, else USED once checked in.
   * Every ticket carries its code, a void one too: the gate, not the code, knows it is void.
   */
  async list(userId: string): Promise<TicketView[]> {
    const rows = rowsOf<Omit<TicketView, 'code'>>(
      await this.db.execute(sql`
        SELECT r.id AS "ticketId", p.id AS "paymentId", sh.concert_id AS "concertId", c.title, c.venue,
               sh.date::text AS "date", r.seat_number AS "seatNumber", ss.name AS "section",
               s.row_no AS "row", s.number_in_row AS "number", ss.grade,
               CASE WHEN r.status = 'REFUNDED' OR p.status = 'REFUNDED' OR sh.cancelled_at IS NOT NULL THEN 'VOID'
                    WHEN r.checked_in_at IS NOT NULL THEN 'USED'
                    ELSE 'VALID' END AS "status",
               to_char(r.checked_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "checkedInAt"
        FROM payments p
        JOIN reservations r ON r.payment_id = p.id
        JOIN shows sh ON sh.id = r.show_id
        JOIN concerts c ON c.id = sh.concert_id
        JOIN seats s ON s.show_id = r.show_id AND s.seat_number = r.seat_number
        JOIN show_sections ss ON ss.show_id = s.show_id AND ss.section_no = s.section_no
        WHERE p.user_id = ${userId}
        ORDER BY p.paid_at DESC, p.id DESC, r.seat_number`),
    );
    return rows.map((row) => ({
      ...row,
      code: signTicket(this.keys, {
        tid: row.ticketId,
        cid: row.concertId,
        date: row.date,
        seat: row.seatNumber,
        sec: row.section,
        row: row.row,
        num: row.number,
      }),
    }));
  }

  /**
   * Admits the ticket a code names, once: the code must verify (TICKET_CODE_INVALID), then
   * check_in_ticket (check-in.sql) decides in one conditional update whether this scan is the
   * first (TICKET_ALREADY_USED with the first time otherwise, TICKET_VOID for a void ticket).
   */
  async checkIn(code: string, now: number): Promise<CheckIn> {
    const claims = await verifyTicket(this.keys, code);
    const [answer] = rowsOf<{ out_refusal: string | null; out_body: Record<string, unknown> }>(
      await this.db.execute(
        sql`SELECT out_refusal, out_body FROM check_in_ticket(${claims.tid}::uuid, ${new Date(now)}::timestamptz)`,
      ),
    );
    if (!answer) throw new Error('check_in_ticket returned no row');
    switch (answer.out_refusal) {
      case null:
        return answer.out_body as unknown as CheckIn;
      case 'TICKET_ALREADY_USED': {
        const checkedInAt = answer.out_body.checkedInAt as string;
        throw new AppError('TICKET_ALREADY_USED', `This ticket entered at ${checkedInAt}`, {
          ticketId: claims.tid,
          checkedInAt,
        });
      }
      case 'TICKET_VOID':
        throw new AppError('TICKET_VOID', 'This ticket was refunded or its show cancelled', {
          ticketId: claims.tid,
        });
      default:
        throw new Error(`check_in_ticket refused with an unknown code ${answer.out_refusal}`);
    }
  }
}
