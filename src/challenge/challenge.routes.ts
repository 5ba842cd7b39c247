import { Type } from 'typebox';
import type { RoutePlugin } from '../http/types.js';
import type { ProofOfWork } from './proof-of-work.js';

/** What challengeRoutes needs, wired by app.ts. */
export interface ChallengeRouteOptions {
  pow: ProofOfWork;
}

/** The challenge as altcha-lib makes it; every parameter goes out as signed (extra ones too). */
const ChallengeSchema = Type.Object(
  {
    parameters: Type.Object(
      {
        algorithm: Type.String(),
        nonce: Type.String(),
        salt: Type.String(),
        cost: Type.Integer(),
        keyLength: Type.Integer(),
        keyPrefix: Type.String(),
        keySignature: Type.String(),
        expiresAt: Type.Integer({ description: 'seconds since the epoch' }),
      },
      { additionalProperties: true },
    ),
    signature: Type.String(),
  },
  { additionalProperties: true },
);

export const challengeRoutes: RoutePlugin<ChallengeRouteOptions> = async (app, { pow }) => {
  app.get(
    '/api/v1/challenge',
    {
      schema: {
        tags: ['queue'],
        summary: 'A proof-of-work challenge (ALTCHA), valid 5 minutes',
        description:
          'Solve it (altcha-lib solveChallenge, or the altcha widget) and send base64(JSON {challenge, solution}) as "proof" when joining a line whose concert asks for it, or signing up when SIGNUP_CHALLENGE is on. Each challenge is accepted once.',
        response: { 200: ChallengeSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return pow.issue();
    },
  );
};
