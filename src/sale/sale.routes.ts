import { Type } from 'typebox';
import type { ConcertsService } from '../concerts/concerts.service.js';
import { errors, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import type { SaleDay } from './sale-day.js';

/** What saleRoutes needs, wired by app.ts. */
export interface SaleRouteOptions {
  concerts: ConcertsService;
  sales: SaleDay;
  clock: Clock;
}

export const saleRoutes: RoutePlugin<SaleRouteOptions> = async (app, { concerts, sales, clock }) => {
  app.get(
    '/api/v1/concerts/:concertId/draw',
    {
      schema: {
        tags: ['concerts'],
        summary: 'The pre-queue draw of a scheduled sale: commitment before, seed and order after',
        description:
          'Recompute the order with scripts/verify-draw.mjs: SHA-256(seed) must equal seedCommitment, and the Fisher–Yates shuffle of the sorted tickets keyed by SHA-256(seed ‖ SHA-256(tickets joined by ",")) must give `tickets`.',
        params: Type.Object({ concertId: Uuid }),
        response: {
          200: Type.Object({
            saleOpensAt: Timestamp,
            seedCommitment: Type.String({ description: 'hex SHA-256 of the seed bytes' }),
            seed: Type.Union([Type.String(), Type.Null()], {
              description: 'hex; revealed once the sale has opened',
            }),
            tickets: Type.Union([Type.Array(Type.Integer()), Type.Null()], {
              description: 'pre-queued tickets in drawn order (first is admitted first)',
            }),
          }),
          ...errors(400, 404, 429),
        },
      },
    },
    async (request) => {
      await concerts.assertExists(request.params.concertId);
      return sales.draw(request.params.concertId, clock.now());
    },
  );
};
