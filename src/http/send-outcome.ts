import type { FastifyReply } from 'fastify';
import type { Outcome } from '../db/idempotency.js';

/** Sends an outcome as it was first produced: its own status, and a problem body for a refusal. */
export function sendOutcome(reply: FastifyReply, outcome: Outcome) {
  if (outcome.problem) reply.type('application/problem+json');
  return reply.code(outcome.status).send(outcome.body);
}
