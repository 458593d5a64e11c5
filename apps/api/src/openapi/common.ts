import { z } from 'zod';

/** A zod schema as JSON Schema (OpenAPI 3.1 uses draft 2020-12). */
// Typed as plain JSON: zod's JSON Schema type cannot be named in the emitted declarations.
export const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** A zod object's fields as optional query parameters, each with its JSON Schema and description. */
export const queryParams = (s: z.ZodObject) =>
  Object.entries((schema(s, 'input').properties ?? {}) as Record<string, { description?: string }>).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    schema: property,
    ...(property.description ? { description: property.description } : {}),
  }));

export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
export const windowParams = ['from', 'to'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string', format: 'date-time' } }));
