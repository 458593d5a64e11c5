import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from '@spotter/shared';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The owner id of a key: a hash prefix, so keys are never stored or logged. */
const ownerOf = (key: string) => digest(key).toString('hex').slice(0, 16);

const ANONYMOUS = 'anonymous';

/**
 * Bearer-key authentication. Without configured keys every request is the anonymous
 * owner (the API then listens on loopback only, see config).
 */
export function apiKeyAuth(keys: readonly string[], opts: { browser?: boolean } = {}): RequestHandler {
  const digests = keys.map(digest);
  return (req, res, next) => {
    if (digests.length === 0) {
      res.locals.owner = ANONYMOUS;
      return next();
    }
    const key = presentedKey(req.get('authorization') ?? '', opts.browser ?? false);
    const given = key ? digest(key) : null;
    // Compare against every key in constant time so timing reveals nothing.
    const ok = given !== null && digests.reduce((hit, d) => timingSafeEqual(d, given) || hit, false);
    if (!ok) {
      // Browsers (the queue dashboard) can only prompt for Basic credentials.
      res.set('WWW-Authenticate', opts.browser ? 'Basic realm="Spotter", charset="UTF-8"' : 'Bearer');
      return next(new UnauthorizedError(key ? 'the API key is not valid' : 'missing Authorization: Bearer <api key>'));
    }
    res.locals.owner = ownerOf(key!);
    next();
  };
}

/** The key from `Bearer <key>`, or with `basic` also from Basic credentials whose password is the key. */
function presentedKey(header: string, basic: boolean): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1]!;
  const creds = basic ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!creds) return null;
  const decoded = Buffer.from(creds[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
}
