import { type Agent, request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { CreatedConcert, NewConcert } from '../../harness/api-types.js';
import type { Api } from './api.js';

/** A section as the bench knows it once created: its seat numbers are first..last. */
export interface PlannedSection {
  section: string;
  grade: string;
  price: number;
  rows: number;
  seatsPerRow: number;
  first: number;
  last: number;
}

export interface SeatedConcert {
  concertId: string;
  dates: string[];
  sections: PlannedSection[];
  totalSeats: number;
}

/** Grades front to back, with their prices: what each section of a uniform plan gets. */
export const GRADES = [
  { grade: 'VIP', price: 150_000 },
  { grade: 'R', price: 120_000 },
  { grade: 'S', price: 90_000 },
  { grade: 'A', price: 60_000 },
] as const;

/**
 * `count` sections of `rows` × `seatsPerRow` seats, named S01, S02, … in plan order (best
 * first); the grades split them front to back in four near-equal bands (VIP, R, S, A).
 */
export function uniformPlan(count: number, rows: number, seatsPerRow: number): PlannedSection[] {
  const size = rows * seatsPerRow;
  return Array.from({ length: count }, (_, i) => {
    const g = GRADES[Math.min(GRADES.length - 1, Math.floor((i * GRADES.length) / count))]!;
    return {
      section: `S${String(i + 1).padStart(2, '0')}`,
      grade: g.grade,
      price: g.price,
      rows,
      seatsPerRow,
      // API.md: seats are numbered 1..N in plan order, section by section.
      first: i * size + 1,
      last: (i + 1) * size,
    };
  });
}

/** A concert whose dates (one per day from tomorrow) all use this plan. */
export async function createSeatedConcert(
  api: Api,
  dates: number,
  plan: PlannedSection[],
  title: string,
): Promise<SeatedConcert> {
  const first = Date.now() + 86_400_000;
  const created = await api.ok<CreatedConcert>('POST', '/api/v1/admin/concerts', {
    headers: api.admin(),
    body: {
      title,
      venue: 'bench stadium',
      seating: plan.map((s) => ({
        section: s.section,
        grade: s.grade,
        price: s.price,
        rows: Array.from({ length: s.rows }, () => s.seatsPerRow),
      })),
      dates: Array.from({ length: dates }, (_, i) => ({
        date: new Date(first + i * 86_400_000).toISOString().slice(0, 10),
      })),
    } satisfies NewConcert,
  });
  const totalSeats = plan.reduce((n, s) => n + s.rows * s.seatsPerRow, 0);
  if (created.totalSeats !== totalSeats)
    throw new Error(`created ${created.totalSeats} seats per show, planned ${totalSeats}`);
  return { concertId: created.concertId, dates: created.dates, sections: plan, totalSeats };
}

/** What one answer costs on the wire, as a browser asks for it. */
export interface WireSize {
  status: number;
  /** content-encoding of the answer ("br", "gzip" or "identity"). */
  encoding: string;
  /** Body bytes as sent. */
  bodyBytes: number;
  /** The JSON's bytes once decoded. */
  jsonBytes: number;
}

/** One GET with the given headers, body measured as received (node:http does not decode it). */
export function wireSize(url: string, headers: Record<string, string>): Promise<WireSize> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const encoding = String(res.headers['content-encoding'] ?? 'identity');
        const json =
          encoding === 'br' ? brotliDecompressSync(body) : encoding === 'gzip' ? gunzipSync(body) : body;
        resolve({ status: res.statusCode!, encoding, bodyBytes: body.length, jsonBytes: json.length });
      });
    })
      .on('error', reject)
      .end();
  });
}

/**
 * A GET of a JSON answer as a browser asks for it (`accept-encoding: br, gzip`), decoded here:
 * the harness's client reads bodies as they come, which a compressed answer is not.
 */
export function getCompressedJson<T>(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; code: string | undefined; body: T; bytes: number }> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers: { ...headers, 'accept-encoding': 'br, gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        try {
          const raw = Buffer.concat(chunks);
          const encoding = res.headers['content-encoding'];
          const text = (
            encoding === 'br' ? brotliDecompressSync(raw) : encoding === 'gzip' ? gunzipSync(raw) : raw
          ).toString('utf8');
          const body = (text ? JSON.parse(text) : null) as T;
          const code = res.statusCode! >= 400 ? (body as { code?: string } | null)?.code : undefined;
          resolve({ status: res.statusCode!, code, body, bytes: raw.length });
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
