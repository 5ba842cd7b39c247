import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.js';

/**
 * Input is made canonical at the edge, so no service ever sees two spellings of one thing.
 *
 * - Ids: a schema marked `x-lowercase` (see schemas.ts `Uuid`) is written back in lowercase
 *   while it is validated. `5EED…` and `5eed…` are one concert, one line, one metrics label;
 *   anything but the 8-4-4-4-12 hex form (`urn:uuid:`, braces, no dashes) fails the pattern.
 * - Text: no string anywhere in a body, query or path may carry NUL or an unpaired surrogate
 *   (PostgreSQL refuses the first, and neither round-trips through UTF-8).
 */
export const lowercaseKeyword = {
  keyword: 'x-lowercase',
  type: 'string',
  schemaType: 'boolean',
  modifying: true,
  errors: false,
  validate(
    enabled: boolean,
    data: string,
    _schema: unknown,
    context?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number },
  ): boolean {
    if (enabled && context?.parentData !== undefined) {
      context.parentData[context.parentDataProperty] = data.toLowerCase();
    }
    return true;
  },
} as const;

/** Ajv plugin: Fastify's validator compiler learns `x-lowercase`. */
export function canonicalKeywords<A extends { addKeyword: (definition: typeof lowercaseKeyword) => unknown }>(
  ajv: A,
): A {
  ajv.addKeyword(lowercaseKeyword);
  return ajv;
}

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const BAD_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first path to a string (or object key) that carries NUL or a lone surrogate. */
export function badTextPath(value: unknown, where: string): string | null {
  // An explicit stack: a body nested thousands deep must not overflow the call stack.
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (BAD_TEXT.test(item)) return path;
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) stack.push([item[i], `${path}/${i}`]);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (BAD_TEXT.test(key)) return path;
        stack.push([child, `${path}/${key}`]);
      }
    }
  }
  return null;
}

export function registerCanonicalInput(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      const path = badTextPath(value, part);
      if (path !== null) {
        throw new AppError(
          'VALIDATION_FAILED',
          `${path} must not contain NUL characters or unpaired surrogates`,
        );
      }
    }
  });
}
