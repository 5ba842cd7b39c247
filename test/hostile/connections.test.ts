import { connect, type Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { backends } from '../helpers/backends.js';
import { useService } from '../helpers/context.js';
import { expectProblem } from './problem.js';

/** Reads everything the server sends until it closes the connection. */
function untilClosed(socket: Socket): Promise<{ text: string; elapsedMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, elapsedMs: Date.now() - started }));
  });
}

function parseResponse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body ? JSON.parse(body) : null,
    text: body,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Connection handling is the HTTP server's, the same on every backend: the embedded one suffices.
describe('slow and oversized clients', () => {
  const service = useService(backends[0]!, {
    env: { REQUEST_TIMEOUT_SECONDS: '1.5', HEADERS_TIMEOUT_SECONDS: '1', KEEP_ALIVE_TIMEOUT_SECONDS: '1' },
  });

  async function open(): Promise<{ socket: Socket; port: number }> {
    const s = service();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = s.app.server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    return { socket, port };
  }

  test('when a client sends its headers a byte at a time (slow loris), then it is cut off with 408 problem+json', async () => {
    const { socket } = await open();
    const closed = untilClosed(socket);
    const request = 'GET /api/v1/concerts HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    let stop = false;
    void (async () => {
      for (let i = 0; !stop && !socket.destroyed; i++) {
        socket.write(request[i] ?? 'a');
        await sleep(100);
      }
    })();
    const { text, elapsedMs } = await closed;
    stop = true;
    expect(elapsedMs).toBeLessThan(4000);
    expectProblem({ ...parseResponse(text) }, 408, 'REQUEST_TIMEOUT');
  });

  test('when a client sends its body a byte at a time, then it is cut off with 408 after the request timeout', async () => {
    const { socket } = await open();
    const closed = untilClosed(socket);
    socket.write(
      'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"',
    );
    let stop = false;
    void (async () => {
      while (!stop && !socket.destroyed) {
        socket.write('a');
        await sleep(100);
      }
    })();
    const { text, elapsedMs } = await closed;
    stop = true;
    expect(elapsedMs).toBeLessThan(4000);
    expectProblem({ ...parseResponse(text) }, 408, 'REQUEST_TIMEOUT');
  });

  test('when a keep-alive connection sits idle, then the server closes it', async () => {
    const { socket } = await open();
    const closed = untilClosed(socket);
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const { text, elapsedMs } = await closed;
    expect(text).toContain('200 OK');
    expect(elapsedMs).toBeLessThan(4000);
  });

  test('when headers are too large or the request is not HTTP, then the answer is problem+json (431, 400)', async () => {
    const big = await open();
    const bigClosed = untilClosed(big.socket);
    big.socket.write(`GET /api/v1/concerts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectProblem({ ...parseResponse((await bigClosed).text) }, 431, 'HEADERS_TOO_LARGE');

    const garbage = connect(big.port, '127.0.0.1');
    const garbageClosed = untilClosed(garbage);
    garbage.write('HELLO\0 THERE\r\n\r\n');
    expectProblem({ ...parseResponse((await garbageClosed).text) }, 400, 'MALFORMED_REQUEST');
  });
});

describe('security headers', () => {
  const service = useService(backends[0]!);

  test('when the web app or the API docs are served, then CSP, frame-ancestors, nosniff and a referrer policy come with them, and Swagger UI still loads', async () => {
    const s = service();
    for (const url of ['/', '/docs/', '/api/v1/concerts']) {
      const res = await s.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    // Problems and unknown paths carry them too.
    for (const [method, url] of [
      ['GET', '/api/v1/no-such-thing'],
      ['POST', '/api/v1/users'],
    ] as const) {
      const res = await s.app.inject({ method, url, payload: method === 'POST' ? { name: 7 } : undefined });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(String(res.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
    }
    // Swagger UI's page only loads scripts from this origin, which the policy allows.
    const docs = await s.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.body).not.toMatch(/<script>(?!\s*<\/script>)/);
    for (const src of docs.body.matchAll(/<script[^>]+src="([^"]+)"/g)) {
      expect(src[1]).not.toMatch(/^https?:/);
      const script = await s.app.inject({ method: 'GET', url: new URL(src[1]!, 'http://x/docs/').pathname });
      expect(script.statusCode, src[1]).toBe(200);
    }
    const initializer = await s.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.statusCode).toBe(200);
  });
});
