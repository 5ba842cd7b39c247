import { Type } from 'typebox';
import { MAX_PROOF_LENGTH, type ProofOfWork } from '../challenge/proof-of-work.js';
import { errors, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import type { UsersService } from './users.service.js';

/** What usersRoutes needs, wired by app.ts. */
export interface UsersRouteOptions {
  users: UsersService;
  clock: Clock;
  /** Set when SIGNUP_CHALLENGE is on: sign-up redeems a proof of work first. */
  signupChallenge?: ProofOfWork;
}

export const usersRoutes: RoutePlugin<UsersRouteOptions> = async (app, { users, clock, signupChallenge }) => {
  app.post(
    '/api/v1/users',
    {
      // The body is optional as a whole: `curl -X POST` with nothing creates an anonymous user.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['users'],
        summary: 'Create a user and get its access token',
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            proof: Type.Optional(
              Type.String({
                maxLength: MAX_PROOF_LENGTH,
                description: 'solved GET /api/v1/challenge; needed when SIGNUP_CHALLENGE is on',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ userId: Uuid, accessToken: Type.String() }),
          ...errors(400, 403, 429),
        },
      },
    },
    async (request, reply) => {
      if (signupChallenge) await signupChallenge.redeem(request.body.proof);
      return reply.code(201).send(await users.create(request.body.name, clock.now()));
    },
  );
};
