import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '@spotter/shared';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The owner id of a key: a hash prefix, so keys are never stored or logged. */
export const ownerOf = (key: string) => digest(key).toString('hex').slice(0, 16);

export const ANONYMOUS = 'anonymous';

/**
 * Bearer-key authentication. Without configured keys every request is the anonymous
 * owner (the API then listens on loopback only, see config).
 */
export function apiKeyAuth(keys: readonly string[]): RequestHandler {
  const digests = keys.map(digest);
  return (req, res, next) => {
    if (digests.length === 0) {
      res.locals.owner = ANONYMOUS;
      return next();
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = match ? digest(match[1]!) : null;
    // Compare against every key in constant time so timing reveals nothing.
    const ok = given !== null && digests.reduce((hit, d) => timingSafeEqual(d, given) || hit, false);
    if (!ok) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(new UnauthorizedError(match ? 'the API key is not valid' : 'missing Authorization: Bearer <api key>'));
    }
    res.locals.owner = ownerOf(match![1]!);
    next();
  };
}
