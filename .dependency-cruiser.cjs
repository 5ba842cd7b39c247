/**
 * The architecture rules of src/, checked by `npm run lint` (and so by CI). The layers:
 *
 *   base      shared/ (the floor: imports nothing else of src), db/, redis/, http/, auth/,
 *             config.ts: transport and storage, knowing no feature
 *   features  every other folder of src/ (users, queue, sale, concerts, reservations, payments,
 *             wallet, ops, admin, lifecycle, …)
 *   root      app.ts and server.ts wire features together and may import anything
 *
 * A feature uses another only through that feature's public files (PUBLIC below): its
 * services and use cases, the ports it offers (store interfaces, token checks, request hooks)
 * and the model types others build on. Anything else in a feature folder is its own business.
 */
const BASE = '(shared|db|redis|http|auth)';
/** Any folder of src/ that is not a base one. */
const FEATURE = `^src/(?!${BASE}/)[^/]+/`;

/** The files a feature offers to other features. */
const PUBLIC = [
  // services and use cases
  '\\.service\\.ts$',
  '^src/payments/pay-for-reservation\\.ts$',
  '^src/sale/sale-day\\.ts$',
  '^src/sale/sale-schedule\\.ts$',
  '^src/sale/prequeue-of\\.ts$',
  // the proof of work at the door: joins and sign-up go through it, the console steers it
  '^src/challenge/proof-of-work\\.ts$',
  '^src/challenge/challenged-join\\.ts$',
  '^src/challenge/challenge-settings\\.ts$',
  // ports: interfaces a feature implements or hands out for others
  '^src/queue/queue-store\\.ts$',
  '^src/queue/prequeue-line\\.ts$',
  '^src/queue/queue-token\\.ts$',
  '^src/concerts/seat-changes\\.ts$',
  '^src/users/access-token\\.ts$',
  // request hooks other routes put in front of theirs
  '^src/queue/gate\\.ts$',
  '^src/users/authenticate\\.ts$',
  // model other features build on: dates and plans of a concert, its answer schema, the metrics
  '^src/concerts/dates\\.ts$',
  '^src/concerts/seating-plan\\.ts$',
  '^src/concerts/concerts\\.routes\\.ts$',
  '^src/ops/metrics\\.ts$',
  '^src/ops/sale-sampler\\.ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the files cannot be understood (or loaded) one after the other.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-knows-no-feature',
      severity: 'error',
      comment:
        'shared/, db/, redis/, http/, auth/ and config.ts serve every feature and import none: a feature hands them what they need (a function, an options object).',
      from: { path: [`^src/${BASE}/`, '^src/config\\.ts$'] },
      to: { path: FEATURE },
    },
    {
      name: 'shared-is-the-floor',
      severity: 'error',
      comment: 'shared/ imports nothing else of src/: db/ and the rest build on it, never the reverse.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'features-meet-through-public-files',
      severity: 'error',
      comment:
        'A feature imports another only through its public files (PUBLIC in .dependency-cruiser.cjs): services, use cases, ports, hooks and shared model types.',
      from: { path: '^src/([^/]+)/' },
      to: { path: FEATURE, pathNot: ['^src/$1/', ...PUBLIC] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that names a feature's types still depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // typescript@7 (native) has no JS API; swc parses the TypeScript.
    parser: 'swc',
  },
};
