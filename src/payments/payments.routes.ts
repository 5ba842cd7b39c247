import { Type } from 'typebox';
import { authenticate } from '../http/auth.js';
import { errors, IdempotencyHeaders, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import { sendOutcome } from '../http/send-outcome.js';
import type { RoutePlugin } from '../http/types.js';
import type { QueueTokenClaims } from '../queue/queue-token.js';
import { fingerprint, type Outcome } from '../shared/idempotency.js';
import type { PaymentView } from './payments.service.js';

const PaymentSchema = Type.Object({
  paymentId: Uuid,
  reservationId: Uuid,
  concertId: Uuid,
  date: IsoDate,
  seatNumber: Type.Integer(),
  amount: Type.Integer(),
  balance: Type.Integer({ description: 'what is left after this payment' }),
  paidAt: Timestamp,
});

export const paymentsRoutes: RoutePlugin = async (app, { payments, queue, accessTokens, clock, metrics }) => {
  const user = { onRequest: authenticate(accessTokens) };

  app.post(
    '/api/v1/payments',
    {
      ...user,
      schema: {
        tags: ['payments'],
        summary: 'Pay for a held seat from the balance (gated, idempotent with Idempotency-Key)',
        security: [{ bearer: [], queueToken: [] }],
        headers: Type.Intersect([
          IdempotencyHeaders,
          Type.Object({ 'queue-token': Type.Optional(Type.String()) }),
        ]),
        body: Type.Object({ reservationId: Uuid }, { additionalProperties: false }),
        response: { 201: PaymentSchema, ...errors(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const print = fingerprint('POST', '/api/v1/payments', request.body);
      const token = request.headers['queue-token'];
      // A retry of a completed payment gets its first answer, even though the purchase has
      // since expired the queue token that the gate would now refuse.
      const stored = await payments.replay(request.userId, key, print);
      let outcome: Outcome;
      let claims: QueueTokenClaims | null;
      let done: boolean;
      if (stored) {
        outcome = stored;
        claims = queue.claimsOf(token, request.userId);
        // The first attempt may have committed and then failed before giving the slot back
        // (a crash, Redis unreachable): the retry finishes that part too.
        const paid = outcome.body as PaymentView;
        done =
          outcome.status === 201 &&
          claims?.concertId === paid.concertId &&
          (await payments.holdsNothingElse(request.userId, paid.concertId, clock.now()));
      } else {
        // The gate, with the concert left to the service: it is the reservation's.
        claims = await queue.admit(token, request.userId, undefined);
        const paid = await payments.pay(
          request.userId,
          claims,
          request.body.reservationId,
          clock.now(),
          key,
          print,
        );
        if (paid.status === 201 && !paid.replayed) metrics.recordSale(paid.body as PaymentView);
        outcome = paid;
        done = paid.status === 201 && paid.doneWithConcert;
      }
      // A buyer holding nothing else for the concert is done: the slot goes to the next in line.
      if (done && claims) await queue.release(claims);
      return sendOutcome(reply, outcome);
    },
  );

  app.get(
    '/api/v1/payments',
    {
      ...user,
      schema: {
        tags: ['payments'],
        summary: 'Your payments, newest first',
        security: [{ bearer: [] }],
        response: { 200: Type.Array(PaymentSchema), ...errors(401, 429) },
      },
    },
    async (request) => payments.list(request.userId),
  );
};
