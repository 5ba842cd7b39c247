import { Type } from 'typebox';
import type { Hook } from '../http/auth.js';
import { errors, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { TicketsService } from './tickets.service.js';

/** What ticketsRoutes needs, wired by app.ts. */
export interface TicketsRouteOptions {
  tickets: TicketsService;
  accessTokens: AccessTokens;
  /** `Gate-Key: <GATE_KEY>` (http/auth.ts requireGateKey). */
  gate: Hook;
  clock: Clock;
}

const Place = {
  date: IsoDate,
  seatNumber: Type.Integer(),
  section: Type.String(),
  row: Type.Integer(),
  number: Type.Integer(),
};

const TicketSchema = Type.Object({
  ticketId: Uuid,
  paymentId: Uuid,
  concertId: Uuid,
  title: Type.String(),
  venue: Type.String(),
  ...Place,
  grade: Type.String(),
  status: Type.Union([Type.Literal('VALID'), Type.Literal('USED'), Type.Literal('VOID')]),
  checkedInAt: Type.Union([Timestamp, Type.Null()], { description: 'when it entered the gate' }),
  code: Type.String({
    description:
      'What the QR code carries: a compact JWS (EdDSA / Ed25519) of {tid, cid, date, seat, sec, row, num}; verify with GET /api/v1/tickets/keys',
  }),
});

const JwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ description: 'the raw public key, base64url' }),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});

export const ticketsRoutes: RoutePlugin<TicketsRouteOptions> = async (
  app,
  { tickets, accessTokens, gate, clock },
) => {
  app.get(
    '/api/v1/tickets',
    {
      onRequest: authenticate(accessTokens),
      schema: {
        tags: ['tickets'],
        summary: 'Your tickets, one per paid seat, newest first, each with its signed code',
        security: [{ bearer: [] }],
        response: { 200: Type.Array(TicketSchema), ...errors(401, 429) },
      },
    },
    async (request) => tickets.list(request.userId),
  );

  app.get(
    '/api/v1/tickets/keys',
    {
      schema: {
        tags: ['tickets'],
        summary: 'The public keys ticket codes are signed with (a JWK set): every key that ever signed one',
        response: { 200: Type.Object({ keys: Type.Array(JwkSchema) }), ...errors(429) },
      },
    },
    async (_request, reply) => {
      // Keys only ever accrue; a gate may keep this for a while and fetch again on an unknown kid.
      reply.header('cache-control', 'public, max-age=300');
      return tickets.keys.jwks();
    },
  );

  app.post(
    '/api/v1/gate/checkins',
    {
      onRequest: gate,
      schema: {
        tags: ['gate'],
        summary: 'Check a ticket in at the gate: the first scan is 200, every later one 409',
        security: [{ gateKey: [] }],
        // No length bound here: an over-long code is TICKET_CODE_INVALID (ticket-codes.ts
        // checks the length before decoding), within the app's body limit.
        body: Type.Object({ code: Type.String() }, { additionalProperties: false }),
        response: {
          200: Type.Object({ ticketId: Uuid, ...Place, checkedInAt: Timestamp }),
          ...errors(400, 401, 409, 429),
        },
      },
    },
    async (request) => tickets.checkIn(request.body.code, clock.now()),
  );
};
