import { Type } from 'typebox';
import { fingerprint } from '../db/idempotency.js';
import { errors, IdempotencyHeaders, Timestamp, Uuid } from '../http/schemas.js';
import { sendOutcome } from '../http/send-outcome.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import { MAX_CHARGE, MIN_CHARGE } from '../shared/money.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { WalletService } from './wallet.service.js';

/** What walletRoutes needs, wired by app.ts. */
export interface WalletRouteOptions {
  wallet: WalletService;
  accessTokens: AccessTokens;
  clock: Clock;
}

export const walletRoutes: RoutePlugin<WalletRouteOptions> = async (app, { wallet, accessTokens, clock }) => {
  const user = { onRequest: authenticate(accessTokens) };

  app.get(
    '/api/v1/balance',
    {
      ...user,
      schema: {
        tags: ['balance'],
        summary: 'Your balance in won',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ userId: Uuid, balance: Type.Integer() }), ...errors(401, 429) },
      },
    },
    async (request) => ({ userId: request.userId, balance: await wallet.balance(request.userId) }),
  );

  app.post(
    '/api/v1/balance/charges',
    {
      ...user,
      schema: {
        tags: ['balance'],
        summary: 'Charge your balance (idempotent with Idempotency-Key)',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: Type.Object(
          { amount: Type.Integer({ minimum: MIN_CHARGE, maximum: MAX_CHARGE, description: 'won' }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            userId: Uuid,
            balance: Type.Integer(),
            charged: Type.Integer(),
            transactionId: Uuid,
          }),
          ...errors(400, 401, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const outcome = await wallet.charge(
        request.userId,
        request.body.amount,
        clock.now(),
        request.headers['idempotency-key'],
        fingerprint('POST', '/api/v1/balance/charges', request.body),
      );
      return sendOutcome(reply, outcome);
    },
  );

  app.get(
    '/api/v1/balance/history',
    {
      ...user,
      schema: {
        tags: ['balance'],
        summary: 'Every change of your balance, newest first; it sums to the balance',
        security: [{ bearer: [] }],
        response: {
          200: Type.Array(
            Type.Object({
              transactionId: Uuid,
              type: Type.Union([Type.Literal('CHARGE'), Type.Literal('PAYMENT'), Type.Literal('REFUND')]),
              amount: Type.Integer({ description: 'signed: a PAYMENT is negative' }),
              balanceAfter: Type.Integer(),
              createdAt: Timestamp,
            }),
          ),
          ...errors(401, 429),
        },
      },
    },
    async (request) => wallet.history(request.userId),
  );
};
