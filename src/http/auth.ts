import type { FastifyReply, FastifyRequest } from 'fastify';
import type { QueueService } from '../queue/queue.service.js';
import { AppError } from '../shared/errors.js';
import type { AccessTokens } from '../users/access-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user (set by `authenticate`). */
    userId: string;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** `Authorization: Bearer <accessToken>` → request.userId, else 401 UNAUTHENTICATED. */
export function authenticate(tokens: AccessTokens): Hook {
  return async (request) => {
    const header = request.headers.authorization;
    const userId = header?.startsWith('Bearer ') ? tokens.verify(header.slice(7).trim()) : null;
    if (!userId)
      throw new AppError(
        'UNAUTHENTICATED',
        'Send Authorization: Bearer <accessToken> from POST /api/v1/users',
      );
    request.userId = userId;
  };
}

/**
 * The gate of API.md: a user, and that user's queue token for the concert in status ACTIVE.
 * `concertOf` names the concert the request is about (path or body); undefined leaves the
 * concert check to the service (a payment learns its concert from the reservation).
 */
export function gate(queue: QueueService, concertOf: (request: FastifyRequest) => string | undefined): Hook {
  return async (request) => {
    const token = request.headers['queue-token'];
    await queue.admit(typeof token === 'string' ? token : undefined, request.userId, concertOf(request));
  };
}

/** `Admin-Key: <ADMIN_KEY>`; with no ADMIN_KEY configured, the admin API is off. */
export function requireAdmin(adminKey: string | undefined): Hook {
  return async (request) => {
    const given = request.headers['admin-key'];
    if (!adminKey)
      throw new AppError('UNAUTHENTICATED', 'The admin API is off: start the server with ADMIN_KEY set');
    if (given !== adminKey) throw new AppError('UNAUTHENTICATED', 'Send the Admin-Key header');
  };
}
