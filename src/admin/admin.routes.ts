import { Type } from 'typebox';
import { ConcertSchema } from '../concerts/concerts.routes.js';
import type { ConcertsService } from '../concerts/concerts.service.js';
import { invalidShowDates, MAX_SEATS_PER_SHOW } from '../concerts/dates.js';
import type { SaleDay } from '../concerts/sale-day.js';
import type { Hook } from '../http/auth.js';
import { errors, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { SaleSampler } from '../ops/sale-sampler.js';
import { SAMPLE_PERIOD_MS } from '../ops/sale-sampler.js';
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
});

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
}

export const adminRoutes: RoutePlugin<AdminRouteOptions> = async (
  app,
  { concerts, guards, clock, admittedBy, sales, sampler },
) => {
  const admin = { onRequest: guards.admin };
  const Params = Type.Object({ concertId: Uuid });

  app.post(
    '/api/v1/admin/concerts',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Create a concert with its dates and seats',
        security: [{ adminKey: [] }],
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 200 }),
            venue: Type.String({ minLength: 1, maxLength: 200 }),
            saleOpensAt: Type.Optional(Timestamp),
            dates: Type.Array(
              Type.Object(
                {
                  date: IsoDate,
                  seats: Type.Optional(
                    Type.Integer({ minimum: 1, maximum: MAX_SEATS_PER_SHOW, default: 50 }),
                  ),
                  price: Type.Integer({ minimum: 1, maximum: MAX_PRICE }),
                },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: 366 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: ConcertSchema, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const invalid = invalidShowDates(
        request.body.dates.map((d) => d.date),
        clock.now(),
      );
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
          },
          { additionalProperties: false },
        ),
        response: { 200: QueueAdmin, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { concertId } = request.params;
      await concerts.assertExists(concertId);
      const { saleOpensAt, ...settings } = request.body;
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
