import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * What a run must not leave behind if it dies first: child processes (servers, stores) and
 * scratch directories. Reaped synchronously when this process exits, and on SIGINT, SIGTERM or
 * SIGHUP too (which end a process without an 'exit' event), after which the process ends as it
 * would have without this module.
 */

const children = new Set<ChildProcess>();
const directories = new Set<string>();
let installed = false;

function reap(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', reap);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // First in line, so it sees whether anyone else handles the signal (the benchmark cleans
    // up on SIGINT): only when nobody does would the signal have ended the process, and then
    // it is raised again without this listener.
    const onSignal = () => {
      const othersHandleIt = process.listenerCount(signal) > 1;
      reap();
      if (othersHandleIt) return;
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.prependListener(signal, onSignal);
  }
}

/** Kills `child` if this process ends while it still runs. */
export function reapChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Removes `dir` if this process ends before `release` is called. */
export function reapDirectory(dir: string): { release(): void } {
  install();
  directories.add(dir);
  return { release: () => directories.delete(dir) };
}
