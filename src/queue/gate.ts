import type { FastifyRequest } from 'fastify';
import type { Hook } from '../http/auth.js';
import type { QueueService } from './queue.service.js';

/**
 * The gate of API.md: a user, and that user's queue token for the concert in status ACTIVE.
 * `concertOf` names the concert the request is about (path or body); undefined leaves the
 * concert check to the service (a payment learns its concert from the reservation).
 * Runs after `authenticate` (users/authenticate.ts), which sets request.userId.
 */
export function gate(queue: QueueService, concertOf: (request: FastifyRequest) => string | undefined): Hook {
  return async (request) => {
    const token = request.headers['queue-token'];
    await queue.admit(typeof token === 'string' ? token : undefined, request.userId, concertOf(request));
  };
}
