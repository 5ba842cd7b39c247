/**
 * The top of a V8 CPU profile (from `npm run bench -- --cpu-prof`), by self time, and the
 * inclusive share of any functions named after the rows (substrings of "name file:line"):
 *
 *   npx tsx bench/lib/profile-top.ts <file.cpuprofile> [rows] [pattern ...]
 *
 * Idle time is left out, so the shares read as "of the CPU the server spent".
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, ...patterns] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [rows] [pattern ...]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

function describe(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${relative(process.cwd(), new URL(url).pathname)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

const selfUs = new Map<string, number>();
const inclusiveUs = new Map<string, number>(patterns.map((p) => [p, 0]));
let busyUs = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  if (node.callFrame.functionName === '(idle)') return;
  busyUs += dt;
  const key = describe(node);
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  if (patterns.length === 0) return;
  const stack: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at))
    stack.push(describe(byId.get(at)!));
  for (const p of patterns)
    if (stack.some((frame) => frame.includes(p))) inclusiveUs.set(p, inclusiveUs.get(p)! + dt);
});

const pct = (us: number) => ((100 * us) / busyUs).toFixed(1);
console.log(`busy ${(busyUs / 1e6).toFixed(2)} s of CPU sampled\n`);
console.log('| self % | self ms | function |\n|---:|---:|---|');
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 25))) {
  console.log(`| ${pct(us)} | ${(us / 1000).toFixed(0)} | ${key.replaceAll('|', '\\|')} |`);
}
if (patterns.length > 0) {
  console.log('\n| inclusive % | function |\n|---:|---|');
  for (const [p, us] of inclusiveUs) console.log(`| ${pct(us)} | ${p} |`);
}
