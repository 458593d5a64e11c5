import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES, clientTypes } from '../scripts/client-types.js';

describe("@spotter/client's types", () => {
  it('are what openapi-typescript makes of the current OpenAPI document (run `npm run client:types` after changing the API)', async () => {
    expect(await readFile(CLIENT_TYPES, 'utf8')).toBe(await clientTypes());
  });
});
