import { randomBytes } from 'node:crypto';
import { type AppOptions, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { App } from '../../src/http/types.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import type { Backend } from './backends.js';

/**
 * The one way a test builds the app in process (driven by `app.inject`, or listening on a
 * spare port): the test configuration, then the real app on the database and queue store the
 * test opened. What a suite needs differently is an option, so a new app option or setting is
 * added here once rather than in every suite.
 */

export const ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * The configuration of an app under test: the embedded database in memory (tests hand the
 * app the database they opened), the test admin key, and no request limit, since every test
 * client is the same address; `env` overrides any of it.
 */
export function testConfig(env: Record<string, string> = {}): Readonly<Config> {
  // No load shedding unless a test asks: a stall of the shared test machine is not the app's overload.
  return loadConfig({
    DATA_DIR: 'memory',
    ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
}

/** A queue store of the backend with the configuration's timings and line defaults. */
export function openQueueStore(backend: Backend, config: Readonly<Config>) {
  const { timings, defaults } = queueOptions(config);
  return backend.openQueueStore(timings, defaults);
}

export interface StartAppOptions extends Omit<AppOptions, 'config' | 'secret' | 'webRoot'> {
  /** Default: testConfig(). */
  config?: Readonly<Config>;
  /** The token signing secret; default random (apps that stand for instances of one service share one). */
  secret?: Buffer;
}

/** The app, ready (its plugins loaded), serving no web app. */
export async function startApp(options: StartAppOptions): Promise<App> {
  const app = await buildApp({
    ...options,
    config: options.config ?? testConfig(),
    secret: options.secret ?? randomBytes(32),
    // Off unless asked for, so that time is the test's.
    backgroundJobs: options.backgroundJobs ?? false,
    webRoot: null,
  });
  await app.ready();
  return app;
}
