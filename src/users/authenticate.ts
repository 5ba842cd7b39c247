import type { Hook } from '../http/auth.js';
import { AppError } from '../shared/errors.js';
import type { AccessTokens } from './access-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user (set by `authenticate`). */
    userId: string;
  }
}

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
