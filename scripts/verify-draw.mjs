#!/usr/bin/env node
// Recomputes a concert's pre-queue draw from its revealed seed and checks it against what the
// service published. Dependency-free (Node's built-in crypto only), so anyone can read and run it.
//
//   node scripts/verify-draw.mjs <service URL> <concertId> [your ticket]
//   node scripts/verify-draw.mjs --file draw.json [your ticket]
//
// The procedure (version 1), also documented in src/sale/draw.ts:
//   tickets  the pre-queued ticket numbers, ascending (the published order, sorted)
//   digest   SHA-256 of the tickets joined by "," (UTF-8)
//   key      SHA-256(seed bytes ‖ digest bytes)
//   words    block c = SHA-256(key ‖ c as 4-byte big-endian), eight 32-bit big-endian words each
//   pick(m)  next word w below 2^32 − (2^32 mod m), then w mod m
//   shuffle  Fisher–Yates: for i = n−1 down to 1, swap a[i] with a[pick(i + 1)]
// Exit status 0: the draw checks out; 1: it does not; 2: usage or fetch error.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (data) => createHash('sha256').update(data).digest();

export function drawOrder(seedHex, tickets) {
  const a = [...tickets].sort((x, y) => x - y);
  const key = sha256(Buffer.concat([Buffer.from(seedHex, 'hex'), sha256(Buffer.from(a.join(','), 'utf8'))]));
  let counter = 0;
  let block = Buffer.alloc(0);
  let offset = 0;
  const next = () => {
    if (offset >= block.length) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(counter++);
      block = sha256(Buffer.concat([key, c]));
      offset = 0;
    }
    const w = block.readUInt32BE(offset);
    offset += 4;
    return w;
  };
  const pick = (m) => {
    const limit = 2 ** 32 - (2 ** 32 % m);
    for (;;) {
      const w = next();
      if (w < limit) return w % m;
    }
  };
  for (let i = a.length - 1; i >= 1; i--) {
    const j = pick(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function main(args) {
  let draw;
  let rest;
  if (args[0] === '--file' && args[1]) {
    draw = JSON.parse(readFileSync(args[1], 'utf8'));
    rest = args.slice(2);
  } else if (args.length >= 2) {
    const res = await fetch(new URL(`/api/v1/concerts/${args[1]}/draw`, args[0]));
    if (!res.ok) throw new Error(`GET draw: ${res.status} ${await res.text()}`);
    draw = await res.json();
    rest = args.slice(2);
  } else {
    console.error('usage: verify-draw.mjs <service URL> <concertId> [ticket] | --file draw.json [ticket]');
    return 2;
  }
  if (draw.seed === null || draw.tickets === null) {
    console.log(
      `Not drawn yet: the sale opens at ${draw.saleOpensAt}; seed commitment ${draw.seedCommitment}`,
    );
    return 1;
  }
  const commitment = sha256(Buffer.from(draw.seed, 'hex')).toString('hex');
  if (commitment !== draw.seedCommitment) {
    console.log(`FAIL: SHA-256(seed) is ${commitment}, the published commitment was ${draw.seedCommitment}`);
    return 1;
  }
  const order = drawOrder(draw.seed, draw.tickets);
  const same = order.length === draw.tickets.length && order.every((t, i) => t === draw.tickets[i]);
  if (!same) {
    console.log('FAIL: the published order is not the one the seed gives');
    return 1;
  }
  console.log(`OK: ${order.length} pre-queued tickets; the order follows from the committed seed`);
  if (rest[0] !== undefined) {
    const place = order.indexOf(Number(rest[0]));
    console.log(
      place < 0 ? `ticket ${rest[0]} was not in the pre-queue` : `ticket ${rest[0]}: place ${place + 1}`,
    );
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error.message);
      process.exit(2);
    },
  );
}
