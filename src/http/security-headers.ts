import type { FastifyInstance } from 'fastify';

/**
 * The browser-hardening headers every response carries (what helmet 8 sends by default, with
 * our Content-Security-Policy). Written out once instead of running helmet per request: the
 * plugin rebuilt its middleware, CSP parsing included, on every request, about a tenth of the
 * CPU of a queue poll. The web app is one bundle from this origin; Swagger UI (/docs) is
 * served from here too and needs its inline bootstrap styles. No HSTS: the service is served
 * over plain HTTP on loopback as often as behind TLS, and HSTS is the TLS proxy's call.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/**
 * Every response Fastify sends gets them, errors and 404s included. An event stream writes its
 * own head after hijacking the reply, so it goes without: the headers guard documents, and each
 * one would be kept in memory for the whole life of each of thousands of open streams.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
}
