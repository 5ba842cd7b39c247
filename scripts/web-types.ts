/**
 * The web app's API types, generated from the OpenAPI document the server builds
 * (`GET /openapi.json`), so the browser code can never drift from the routes' schemas:
 *
 *   npm run generate:web-types        rewrites web/src/api-types.gen.ts
 *
 * test/e2e/web-types.test.ts fails when the checked-in file differs from what this produces now.
 * The app is built in process (no server listens) on an embedded in-memory database.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { type OpenAPI3 } from 'openapi-typescript';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { Problem } from '../src/http/schemas.js';
import { MemoryQueueStore } from '../src/queue/memory-queue-store.js';
import { queueOptions } from '../src/queue/queue-options.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_TYPES_FILE = join(ROOT, 'web', 'src', 'api-types.gen.ts');

const HEADER = `/**
 * Generated from the server's OpenAPI document by scripts/web-types.ts: do not edit.
 * Regenerate with \`npm run generate:web-types\` after changing a route's schema or an error code.
 */
`;

/** Appended to the generated types: how the app (and the end-to-end suite) name a body. */
const HELPERS = `
type JsonContent<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The JSON body of an operation's success response (200 or 201), as the server declares it. */
export type SuccessBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? JsonContent<R[keyof R & (200 | 201)]>
  : never;

/** The JSON request body of an operation. */
export type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? JsonContent<B>
  : never;

/** Every error code the server may send. */
export type ServerErrorCode = components['schemas']['Problem']['code'];
`;

/** The document GET /openapi.json serves, from an app that is built but never listens. */
async function serverOpenApi(): Promise<OpenAPI3> {
  const config = loadConfig({});
  const database = await openDatabase({ url: undefined, dataDir: 'memory' });
  try {
    const app = await buildApp({
      config,
      database,
      queueStore: new MemoryQueueStore(queueOptions(config).timings, queueOptions(config).defaults),
      secret: randomBytes(32),
      backgroundJobs: false,
      webRoot: null,
    });
    try {
      await app.ready();
      // A JSON round trip: exactly what a client of /openapi.json reads.
      return JSON.parse(JSON.stringify(app.swagger())) as OpenAPI3;
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

type Json = Record<string, unknown>;

/**
 * Every error response carries the same problem schema, inlined by the server in each route.
 * It becomes one named schema, `components['schemas']['Problem']`, so its error-code union is
 * written once in the generated file instead of once per route and status.
 */
function nameTheProblemSchema(doc: OpenAPI3): OpenAPI3 {
  const problem = JSON.stringify(Problem);
  let named = 0;
  for (const operations of Object.values(doc.paths ?? {}) as Json[]) {
    for (const operation of Object.values(operations) as Json[]) {
      for (const response of Object.values((operation.responses ?? {}) as Record<string, Json>)) {
        for (const media of Object.values((response.content ?? {}) as Record<string, Json>)) {
          if (JSON.stringify(media.schema) === problem) {
            media.schema = { $ref: '#/components/schemas/Problem' };
            named++;
          }
        }
      }
    }
  }
  if (named === 0) throw new Error('no response uses the Problem schema of src/http/schemas.ts');
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Problem: Problem as never } };
  return doc;
}

/** Formats as `biome check --write` would, so the checked-in file passes the project's lint. */
function biomeFormat(source: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = execFile(
      join(ROOT, 'node_modules', '.bin', 'biome'),
      ['format', `--stdin-file-path=${WEB_TYPES_FILE}`],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? fail(new Error(`biome format failed: ${stderr}`)) : done(stdout)),
    );
    child.stdin?.end(source);
  });
}

/** The text web/src/api-types.gen.ts should have for the server as it is now. */
export async function renderWebTypes(): Promise<string> {
  const doc = nameTheProblemSchema(await serverOpenApi());
  const types = await openapiTS(doc, { silent: true, commentHeader: HEADER });
  return biomeFormat(types + HELPERS);
}

export async function readWebTypes(): Promise<string | null> {
  return readFile(WEB_TYPES_FILE, 'utf8').catch(() => null);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = await renderWebTypes();
  if ((await readWebTypes()) === text) console.log(`${WEB_TYPES_FILE} is up to date`);
  else {
    await writeFile(WEB_TYPES_FILE, text);
    console.log(`wrote ${WEB_TYPES_FILE}`);
  }
}
