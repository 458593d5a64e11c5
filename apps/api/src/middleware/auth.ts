import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ForbiddenError, UnauthorizedError } from '@spotter/shared';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The owner id of a key: a hash prefix, so keys are never stored or logged. */
export const ownerOf = (key: string) => digest(key).toString('hex').slice(0, 16);

/** Who is calling: the owner of the jobs they create and see, and whether they may administer. */
export interface Principal {
  owner: string;
  admin: boolean;
}

const ANONYMOUS: Principal = { owner: 'anonymous', admin: true };

/** The caller the auth middleware established for this request. */
export const principalOf = (res: Response) => res.locals.principal as Principal;

/**
 * Bearer-key authentication with two roles. Tenant keys (SPOTTER_API_KEYS) see and touch
 * only their own jobs; admin keys (SPOTTER_ADMIN_KEYS) also steer the service (rollout,
 * monitoring reference, queue dashboard). Without any key configured every request is the
 * anonymous admin, and the API listens on loopback only (see config).
 */
export function apiKeyAuth(keys: { tenant: readonly string[]; admin: readonly string[] }, opts: { browser?: boolean } = {}): RequestHandler {
  const known = [...keys.admin.map((k) => ({ d: digest(k), key: k, admin: true })), ...keys.tenant.map((k) => ({ d: digest(k), key: k, admin: false }))];
  return (req, res, next) => {
    if (known.length === 0) {
      res.locals.principal = ANONYMOUS;
      return next();
    }
    const key = presentedKey(req.get('authorization') ?? '', opts.browser ?? false);
    const given = key ? digest(key) : null;
    // Compare against every key in constant time so timing reveals nothing.
    let match: (typeof known)[number] | null = null;
    for (const k of known) if (given !== null && timingSafeEqual(k.d, given) && !match) match = k;
    if (!match) {
      // Browsers (the queue dashboard) can only prompt for Basic credentials.
      res.set('WWW-Authenticate', opts.browser ? 'Basic realm="Spotter", charset="UTF-8"' : 'Bearer');
      return next(new UnauthorizedError(key ? 'the API key is not valid' : 'missing Authorization: Bearer <api key>'));
    }
    res.locals.principal = { owner: ownerOf(match.key), admin: match.admin } satisfies Principal;
    next();
  };
}

/** Lets only admin keys through. */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  next(principalOf(res).admin ? undefined : new ForbiddenError('this route needs an admin key (SPOTTER_ADMIN_KEYS)'));
};

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

/** `Authorization: Bearer <token>` for /metrics when SPOTTER_METRICS_TOKEN is set. */
export function bearerToken(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = digest(token);
  return (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (m && timingSafeEqual(digest(m[1]!), expected)) return next();
    res.set('WWW-Authenticate', 'Bearer');
    next(new UnauthorizedError('missing or wrong metrics token'));
  };
}
