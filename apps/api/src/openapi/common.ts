import { z } from 'zod';

/** A zod schema as JSON Schema (OpenAPI 3.1 uses draft 2020-12). */
export const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' });

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
export const windowParams = ['from', 'to'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string', format: 'date-time' } }));
