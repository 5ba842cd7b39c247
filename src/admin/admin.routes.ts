import { Type } from 'typebox';
import type { ChallengeSettings } from '../challenge/challenge-settings.js';
import { ConcertSchema } from '../concerts/concerts.routes.js';
import type { ConcertsService } from '../concerts/concerts.service.js';
import { invalidShowDates, MAX_SIMPLE_FORM_SEATS } from '../concerts/dates.js';
import { invalidPlan } from '../concerts/seating-plan.js';
import type { Hook } from '../http/auth.js';
import { errors, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { SaleSampler } from '../ops/sale-sampler.js';
import { SAMPLE_PERIOD_MS } from '../ops/sale-sampler.js';
import type { SaleDay } from '../sale/sale-day.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { MAX_PRICE } from '../shared/money.js';

const QueueAdmin = Type.Object({
  waiting: Type.Integer({ description: 'in line, pre-queue included' }),
  prequeued: Type.Integer({ description: 'in the pre-queue of a scheduled sale, waiting for the draw' }),
  active: Type.Integer(),
  maxActive: Type.Integer(),
  admitPerSecond: Type.Integer(),
  paused: Type.Boolean(),
  saleOpensAt: Type.Union([Timestamp, Type.Null()]),
  challenge: Type.Boolean({ description: 'every join needs a proof of work' }),
});

/** One section of a seating plan (API.md "Seating plans"). */
const SectionPlanSchema = Type.Object(
  {
    section: Type.String({ minLength: 1, maxLength: 20 }),
    grade: Type.String({ minLength: 1, maxLength: 20 }),
    price: Type.Integer({ minimum: 1, maximum: MAX_PRICE }),
    rows: Type.Array(Type.Integer({ minimum: 1, maximum: 500, description: 'seats in the row' }), {
      minItems: 1,
      maxItems: 500,
      description: 'front row first',
    }),
  },
  { additionalProperties: false },
);

const CreatedConcert = Type.Object({
  ...ConcertSchema.properties,
  totalSeats: Type.Integer({ description: 'seats of each show' }),
});

/**
 * Why a create body mixes or misses its form, or null: either a seating plan and dates that
 * carry only `date`, or no plan and a `price` (and maybe `seats`) on every date.
 */
function invalidForm(body: {
  seating?: { section: string; grade: string; price: number; rows: number[] }[];
  dates: { date: string; seats?: number; price?: number }[];
}): string | null {
  if (body.seating) {
    const mixed = body.dates.find((d) => d.seats !== undefined || d.price !== undefined);
    if (mixed) return `With a seating plan, dates carry only "date" (${mixed.date} has seats or price)`;
    return invalidPlan(body.seating);
  }
  const unpriced = body.dates.find((d) => d.price === undefined);
  return unpriced ? `Date ${unpriced.date} needs a price (or give the concert a seating plan)` : null;
}

/** What adminRoutes needs, wired by app.ts. */
export interface AdminRouteOptions {
  concerts: ConcertsService;
  /** The Admin-Key check (http/auth.ts). */
  guards: { admin: Hook };
  clock: Clock;
  /** Admissions this instance made per concert since it started (operator console). */
  admittedBy: (concertId: string) => number;
  /** Scheduled sales: settings in PostgreSQL, opening, pre-queue draw. */
  sales: SaleDay;
  /** The operator's live charts: samples shared by every instance. */
  sampler: SaleSampler;
  /** The per-concert proof-of-work setting. */
  challenges: ChallengeSettings;
}

export const adminRoutes: RoutePlugin<AdminRouteOptions> = async (
  app,
  { concerts, guards, clock, admittedBy, sales, sampler, challenges },
) => {
  const admin = { onRequest: guards.admin };
  const Params = Type.Object({ concertId: Uuid });

  app.post(
    '/api/v1/admin/concerts',
    {
      ...admin,
      // A 100,000-seat plan written row by row is larger than any other body.
      bodyLimit: 1024 * 1024,
      schema: {
        tags: ['admin'],
        summary: 'Create a concert with its dates and seats',
        security: [{ adminKey: [] }],
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 200 }),
            venue: Type.String({ minLength: 1, maxLength: 200 }),
            saleOpensAt: Type.Optional(Timestamp),
            seating: Type.Optional(Type.Array(SectionPlanSchema, { minItems: 1, maxItems: 500 })),
            dates: Type.Array(
              Type.Object(
                {
                  date: IsoDate,
                  seats: Type.Optional(
                    Type.Integer({ minimum: 1, maximum: MAX_SIMPLE_FORM_SEATS, description: 'default 50' }),
                  ),
                  price: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PRICE })),
                },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: 366 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedConcert, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const invalid =
        invalidShowDates(
          request.body.dates.map((d) => d.date),
          clock.now(),
        ) ?? invalidForm(request.body);
      if (invalid) throw new AppError('VALIDATION_FAILED', invalid);
      const { saleOpensAt, ...concert } = request.body;
      const opensAt = saleOpensAt === undefined ? null : Date.parse(saleOpensAt);
      const created = await concerts.create(concert, clock.now(), async (tx, concertId) => {
        if (opensAt !== null) await sales.schedule.setOpening(concertId, opensAt, clock.now(), tx);
      });
      return reply
        .code(201)
        .send({ ...created, saleOpensAt: opensAt === null ? null : new Date(opensAt).toISOString() });
    },
  );

  app.get(
    '/api/v1/admin/concerts/:concertId/seating',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Seats sold, held and free per section, for every date of a concert',
        security: [{ adminKey: [] }],
        params: Params,
        response: {
          200: Type.Array(
            Type.Object({
              date: IsoDate,
              sections: Type.Array(
                Type.Object({
                  section: Type.String(),
                  grade: Type.String(),
                  price: Type.Integer(),
                  totalSeats: Type.Integer(),
                  availableSeats: Type.Integer(),
                  heldSeats: Type.Integer(),
                  soldSeats: Type.Integer(),
                }),
              ),
            }),
          ),
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => concerts.seatingReport(request.params.concertId, clock.now()),
  );

  app.get(
    '/api/v1/admin/concerts/:concertId/queue',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'The line of a concert and its settings',
        security: [{ adminKey: [] }],
        params: Params,
        response: { 200: QueueAdmin, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      await concerts.assertExists(request.params.concertId);
      return sales.lineOf(request.params.concertId, clock.now());
    },
  );

  app.patch(
    '/api/v1/admin/concerts/:concertId/queue',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Steer the line: max active, admission rate, pause, opening time',
        security: [{ adminKey: [] }],
        params: Params,
        body: Type.Object(
          {
            maxActive: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
            admitPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
            paused: Type.Optional(Type.Boolean()),
            saleOpensAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
            challenge: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: QueueAdmin, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { concertId } = request.params;
      await concerts.assertExists(concertId);
      const { saleOpensAt, challenge, ...settings } = request.body;
      if (challenge !== undefined) await challenges.set(concertId, challenge);
      const opensAt = saleOpensAt == null ? saleOpensAt : Date.parse(saleOpensAt);
      return sales.steer(concertId, settings, opensAt, clock.now());
    },
  );

  app.get(
    '/api/v1/admin/concerts/:concertId/stats',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'A live view of a sale: line, admissions and seats',
        security: [{ adminKey: [] }],
        params: Params,
        response: {
          200: Type.Object({
            ...QueueAdmin.properties,
            admittedTotal: Type.Integer({ description: 'admitted by this instance since it started' }),
            seatsTotal: Type.Integer(),
            seatsHeld: Type.Integer(),
            seatsSold: Type.Integer(),
          }),
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { concertId } = request.params;
      await concerts.assertExists(concertId);
      const [line, seats] = await Promise.all([
        sales.lineOf(concertId, clock.now()),
        concerts.seatStats(clock.now(), concertId),
      ]);
      const s = seats[0] ?? { total: 0, held: 0, sold: 0 };
      return {
        ...line,
        admittedTotal: admittedBy(concertId),
        seatsTotal: s.total,
        seatsHeld: s.held,
        seatsSold: s.sold,
      };
    },
  );

  app.get(
    '/api/v1/admin/concerts/:concertId/samples',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'The last 30 minutes of a sale, one sample every 5 s (the same on every instance)',
        security: [{ adminKey: [] }],
        params: Params,
        response: {
          200: Type.Object({
            periodSeconds: Type.Number(),
            samples: Type.Array(
              Type.Object({
                at: Timestamp,
                waiting: Type.Integer(),
                prequeued: Type.Integer(),
                active: Type.Integer(),
                admittedPerSecond: Type.Number(),
                held: Type.Integer(),
                sold: Type.Integer(),
                revenue: Type.Integer({ description: 'won taken so far' }),
              }),
            ),
          }),
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      await concerts.assertExists(request.params.concertId);
      return {
        periodSeconds: SAMPLE_PERIOD_MS / 1000,
        samples: await sampler.points(request.params.concertId, clock.now()),
      };
    },
  );
};
