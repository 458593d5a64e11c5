import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** One readable line for a zod failure: `field: message; other: message`. */
export function formatIssues(error: z.ZodError, root = 'body'): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : root}: ${i.message}`).join('; ');
}

/** Parses `value` or throws a ValidationError naming every bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, root = 'body'): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(formatIssues(r.error, root));
  return r.data;
}
