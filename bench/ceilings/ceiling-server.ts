/**
 * The ceilings' server: Fastify with the app's settings and three routes, each the least a
 * request of that kind can do. PORT, DATABASE_URL (else embedded PGlite in memory), REDIS_URL
 * (optional), DB_POOL_SIZE. Run by bench/ceilings/ceilings.ts, never by hand.
 */
import { PGlite } from '@electric-sql/pglite';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';

const env = process.env;
const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));

if (env.REDIS_URL) {
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await new Promise((resolve) => redis.once('ready', resolve));
  app.get('/redis', async () => ({ value: await redis.get('bo-bench:ceiling') }));
}

let selectOne: () => Promise<unknown>;
if (env.DATABASE_URL) {
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_SIZE ?? 10) });
  selectOne = async () => (await pool.query('SELECT 1 AS one')).rows[0];
} else {
  const db = await PGlite.create();
  selectOne = async () => (await db.query('SELECT 1 AS one')).rows[0];
}
app.get('/pg', async () => selectOne());

await app.listen({ port: Number(env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
