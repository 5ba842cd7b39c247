import { beforeAll, describe, expect, it } from 'vitest';
import { readWebTypes, renderWebTypes, WEB_TYPES_FILE } from '../../scripts/web-types.js';
import { errorCatalog } from '../../src/shared/errors.js';

describe('web types generated from the server', () => {
  let generated: string;
  beforeAll(async () => {
    generated = await renderWebTypes();
  });

  it('When the routes or error codes change, then web/src/api-types.gen.ts must be regenerated', async () => {
    // A plain boolean, so the failure says what to do rather than dumping two long files.
    expect(
      (await readWebTypes()) === generated,
      `${WEB_TYPES_FILE} differs from the server's OpenAPI document: run npm run generate:web-types`,
    ).toBe(true);
  });

  it('When the server declares its error codes, then the generated types name every one', () => {
    const problem = generated.slice(generated.indexOf('Problem: {'));
    for (const code of Object.keys(errorCatalog)) expect(problem).toContain(`| '${code}'`);
  });
});
