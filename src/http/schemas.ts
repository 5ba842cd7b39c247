import { type TSchema, Type } from 'typebox';
import { type ErrorCode, errorCatalog } from '../shared/errors.js';

/** Building blocks shared by every route's schemas. */
/**
 * An id: the 8-4-4-4-12 hex form in either case, handed on in lowercase (`x-lowercase`, see
 * canonical-input.ts). The pattern, not `format: 'uuid'` alone, decides: that format also
 * admits `urn:uuid:…`.
 */
export const Uuid = Type.String({
  format: 'uuid',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  'x-lowercase': true,
  description: 'UUID',
});
/** A show date: a real calendar day between 2000-01-01 and 2099-12-31. */
export const IsoDate = Type.String({
  format: 'date',
  pattern: '^20[0-9]{2}-[0-9]{2}-[0-9]{2}$',
  description: 'YYYY-MM-DD',
  examples: ['2026-12-24'],
});
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601, UTC' });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    // Every code of the catalog, so /openapi.json (and the web types generated from it) knows them all.
    code: Type.Unsafe<ErrorCode>({
      type: 'string',
      enum: Object.keys(errorCatalog),
      description: 'Stable machine-readable error code',
    }),
    detail: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details (application/problem+json)' },
);

/** Documented error responses of a route, by status: every one is a Problem. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Repeat a write safely: same key, same body' }),
  ),
});
