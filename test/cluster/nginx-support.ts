import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, PROJECT_ROOT, probe } from '../../harness/cluster.js';
import { reapChild, reapDirectory } from '../../harness/reaper.js';
import { eventually } from '../../harness/wait.js';

/**
 * An nginx of the test's own, running the shipped deploy/nginx/boxoffice.conf with only its
 * ports changed: the file under test stays the one source. Never the system's nginx service:
 * this one has its own prefix directory, a spare loopback port, and is stopped by the pid it
 * was started with.
 */

const SHIPPED_CONF = join(PROJECT_ROOT, 'deploy', 'nginx', 'boxoffice.conf');

/** The nginx binary (Debian puts it in /usr/sbin, which a non-root PATH may lack), or null. */
export function nginxBinary(): string | null {
  for (const candidate of ['/usr/sbin/nginx', 'nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return null;
}

/**
 * The shipped file with the instances' ports and a loopback listen port in place of the
 * example ones. Each replaced line must be there exactly as expected, so a change to the
 * shipped file that this rendering would silently miss fails here instead.
 */
function renderConf(upstreamPorts: number[], listenPort: number): string {
  const shipped = readFileSync(SHIPPED_CONF, 'utf8');
  const servers = [...shipped.matchAll(/^(\s*server )127\.0\.0\.1:\d+( .*;)$/gm)];
  if (servers.length !== upstreamPorts.length) {
    throw new Error(
      `${SHIPPED_CONF}: ${servers.length} upstream servers, the test starts ${upstreamPorts.length}`,
    );
  }
  let i = 0;
  const rendered = shipped
    .replace(
      /^(\s*server )127\.0\.0\.1:\d+( .*;)$/gm,
      (_, head, tail) => `${head}127.0.0.1:${upstreamPorts[i++]}${tail}`,
    )
    .replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${listenPort};`);
  if (!rendered.includes(`listen 127.0.0.1:${listenPort};`)) {
    throw new Error(`${SHIPPED_CONF}: no "listen 80;" line to point at the test's port`);
  }
  return rendered;
}

export class NginxServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly dir: string,
    private readonly release: () => void,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** nginx's error log: refused upstreams, instances marked down, … */
  errorLog(): string {
    const file = join(this.dir, 'error.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Starts nginx in front of the instances on `upstreamPorts`; resolves once it answers. */
  static async start(binary: string, upstreamPorts: number[]): Promise<NginxServer> {
    const [port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), 'bo-nginx-'));
    const { release } = reapDirectory(dir);
    const server = new NginxServer(binary, port!, dir, release);
    writeFileSync(join(dir, 'boxoffice.conf'), renderConf(upstreamPorts, port!));
    // What Debian's /etc/nginx/nginx.conf puts around conf.d/ (gzip on, so the event stream's
    // `gzip off` is what keeps it uncompressed), with every path in the prefix directory.
    // One process (no master/worker split): the pid started is all there is to stop, and a
    // SIGKILL by the reaper leaves no worker behind holding the port.
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        'master_process off;',
        'worker_processes 1;',
        'events { worker_connections 4096; }',
        'http {',
        '  access_log off;',
        '  sendfile on;',
        '  tcp_nopush on;',
        '  gzip on;',
        '  gzip_types application/json application/problem+json text/event-stream;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (t) => `  ${t}_temp_path ${join(dir, t)};`,
        ),
        `  include ${join(dir, 'boxoffice.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
    const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
    execFileSync(binary, [...args, '-t', '-q'], { stdio: 'pipe' });
    const child = spawn(binary, [...args, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.child = child;
    reapChild(child);
    server.exited = new Promise((done) => child.once('exit', () => done()));
    const keep = (chunk: Buffer) => {
      server.output = (server.output + chunk.toString('utf8')).slice(-16 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited:\n${server.output}${server.errorLog()}`);
        return (await probe(`${server.url}/health/live`)) === 200;
      },
      { timeoutMs: 20_000, what: `nginx on port ${port}` },
    );
    return server;
  }

  /** SIGQUIT (finish what is in flight), SIGKILL after 5 s; then the prefix directory goes. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.release();
  }
}
