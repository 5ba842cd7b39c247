import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhooks/signature.js';

/**
 * A real HTTP receiver on 127.0.0.1:0 that misbehaves on demand. Each request takes the next
 * behaviour of its plan (then `otherwise`):
 * - `ok`: 200 at once;
 * - `500`: a server error;
 * - `hang`: never answers (the sender's timeout ends it);
 * - `close`: drops the connection without a word;
 * - `late`, `hold`: kept open until release() answers 200 — `late` once the test has made the
 *   sender time out on it, `hold` while the cluster test kills an instance.
 * Every request is recorded with its raw body, whether the signature verifies, and whether a
 * 200 was actually written to a connection still open.
 */
export type Behaviour = 'ok' | '500' | 'hang' | 'close' | 'late' | 'hold';

export interface Received {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
  rawBody: string;
  /** The request path (instances of a cluster test are given different ones). */
  path: string;
  signatureOk: boolean;
  signedAt: number | null;
  behaviour: Behaviour;
  /** A 2xx reached an open connection. */
  answered2xx: boolean;
  /** The sender went away before an answer. */
  abandoned: boolean;
}

export class Receiver {
  readonly received: Received[] = [];
  plan: Behaviour[] = [];
  otherwise: Behaviour = 'ok';
  private server: Server | undefined;
  private held: { res: ServerResponse; record: Received }[] = [];
  private waiters: (() => void)[] = [];
  url = '';

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    for (const { res } of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Answers 200 to every held request whose sender is still there. */
  release(): void {
    for (const { res, record } of this.held.splice(0)) this.answer(res, record, 200);
  }

  get heldCount(): number {
    return this.held.filter(({ record }) => !record.abandoned).length;
  }

  /** Resolves once `check()` holds, re-checked at every request and every abandoned one. */
  async until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`receiver: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        // A safety net only: every change to the record wakes the waiters.
        setTimeout(resolve, 1000).unref();
      });
    }
  }

  /** Ids answered with a 2xx. */
  deliveredIds(): Set<string> {
    return new Set(this.received.filter((r) => r.answered2xx).map((r) => r.id));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private answer(res: ServerResponse, record: Received, status: number): void {
    if (res.destroyed || res.socket?.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    if (status >= 200 && status < 300) record.answered2xx = true;
    this.wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const header = req.headers['boxoffice-signature'];
    const signedAt = verifySignature(this.secret, typeof header === 'string' ? header : undefined, rawBody);
    const event = JSON.parse(rawBody);
    const behaviour = this.plan.shift() ?? this.otherwise;
    const record: Received = {
      ...event,
      rawBody,
      path: req.url ?? '',
      signatureOk: signedAt !== null,
      signedAt,
      behaviour,
      answered2xx: false,
      abandoned: false,
    };
    this.received.push(record);
    res.on('close', () => {
      if (!res.writableFinished) {
        record.abandoned = true;
        this.wake();
      }
    });
    this.wake();
    switch (behaviour) {
      case 'ok':
        return this.answer(res, record, 200);
      case '500':
        return this.answer(res, record, 500);
      case 'close':
        req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'late':
      case 'hold':
        this.held.push({ res, record });
        return;
    }
  }
}
