import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, type ErrorCode, isAppError, problem } from '../shared/errors.js';

const PROBLEM_TYPE = 'application/problem+json';

/** Error codes of drivers and sockets meaning "the store is not there", not "a bug". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement timeout)
  '53300', // too_many_connections
  '08000', // connection_exception
  '08003',
  '08006',
  'NR_CLOSED',
]);

export function isUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && depth < 4; depth++) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|connect ECONNREFUSED/i.test(
        message,
      )
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Maps anything thrown to a problem+json response. Stack traces only ever reach the log. */
function toProblem(error: FastifyError | AppError | Error, request: FastifyRequest) {
  if (isAppError(error)) return error.toProblem();
  const e = error as FastifyError;
  if (e.validation) {
    return problem(
      'VALIDATION_FAILED',
      `${e.validationContext ?? 'request'}${e.message.replace(/^[a-z]+/, '')}`,
      {
        errors: e.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })),
      },
    );
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problem('PAYLOAD_TOO_LARGE');
  if (e.code === 'FST_ERR_RATE_LIMITED' || e.statusCode === 429) return problem('RATE_LIMITED', e.message);
  // Malformed JSON, an empty body where one is needed, a body that is not JSON at all.
  if (e.code?.startsWith('FST_ERR_CTP_') || e.statusCode === 400 || e.statusCode === 415) {
    return problem('VALIDATION_FAILED', e.message);
  }
  if (isUnavailable(error)) {
    request.log.warn({ err: error }, 'backing store unavailable');
    return problem('UNAVAILABLE', 'A backing store is not answering; try again shortly');
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode =
      e.statusCode === 404 ? 'NOT_FOUND' : e.statusCode === 401 ? 'UNAUTHENTICATED' : 'VALIDATION_FAILED';
    return { ...problem(code, e.message), status: e.statusCode };
  }
  request.log.error({ err: error }, 'unhandled error');
  return problem('INTERNAL', 'Something went wrong on our side');
}

export function sendProblem(reply: FastifyReply, body: { status: number } & Record<string, unknown>) {
  return reply.code(body.status).type(PROBLEM_TYPE).send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error as FastifyError, request);
    if (body.code === 'RATE_LIMITED' && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
