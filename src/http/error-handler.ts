import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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
  'POOL_QUEUE_FULL', // db/client.ts: too many requests already wait for a connection
  'REDIS_UNRESPONSIVE', // redis/connection.ts: refused at once while Redis does not answer
]);

export function isUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && depth < 4; depth++) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (name === 'MaxRetriesPerRequestError') return true;
    // Redis Cluster re-arranging (a master failing over): a redirection to the dead master, the
    // cluster down until the replica is promoted, the client out of redirections or slot maps.
    if (
      typeof message === 'string' &&
      /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN) |Too many Cluster redirections|Failed to refresh slots cache|Cluster isn't ready|None of startup nodes is available/.test(
        message,
      )
    ) {
      return true;
    }
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|connect ECONNREFUSED|Command timed out|Query read timeout/i.test(
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
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
    return problem('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  }
  if (e.code === 'FST_ERR_MAX_PARAM_LENGTH' || e.statusCode === 414) return problem('URI_TOO_LONG');
  // Malformed JSON, an empty body where one is needed, a path that does not decode.
  if (e.code?.startsWith('FST_ERR_CTP_') || e.code === 'FST_ERR_BAD_URL' || e.statusCode === 400) {
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

/**
 * Errors Fastify's router raises before any route runs (a path that does not decode, a path
 * parameter beyond maxParamLength): the same problem+json as everything else.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(reply, toProblem(error, request));
}

/**
 * Errors Node's HTTP parser raises before there is a request (a request that does not arrive
 * in time, headers too large, bytes that are not HTTP). There is no reply object: the answer
 * is written to the socket, when nothing of a response was sent on it yet, and the connection
 * is closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'REQUEST_TIMEOUT'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'HEADERS_TOO_LARGE'
        : 'MALFORMED_REQUEST';
  const inResponse = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inResponse?.headersSent) {
    const body = JSON.stringify(problem(code));
    const { status } = problem(code);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/** `/a/:b/c` → a pattern matching its concrete paths, to tell 405 from 404. */
function pathPattern(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}$`);
}

export function registerErrorHandling(app: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    // Catch-all routes (static files, /docs/*) say nothing about which methods a path takes.
    if (route.url.includes('*')) return;
    routes.push({ pattern: pathPattern(route.url), methods });
  });
  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error as FastifyError, request);
    if (typeof body.retryAfterSeconds === 'number')
      reply.header('retry-after', String(body.retryAfterSeconds));
    if ((body.code === 'RATE_LIMITED' || body.code === 'UNAVAILABLE') && !reply.hasHeader('retry-after'))
      reply.header('retry-after', '1');
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, problem('METHOD_NOT_ALLOWED', `${shown} takes ${allowed.join(', ')}`));
    }
    return sendProblem(reply, problem('NOT_FOUND', `No route ${request.method} ${shown}`));
  });
}
