import type { RequestHandler } from 'express';
import { OverloadedError } from '@spotter/shared';
import type { RateLimitStore } from '@spotter/stores';
import { principalOf } from './auth.js';

/** Requests per second per API key, shared by every API process (Redis); off when 0. */
export function rateLimit(store: RateLimitStore, perSecond: number, burst: number): RequestHandler {
  if (perSecond <= 0) return (_req, _res, next) => next();
  return async (_req, res, next) => {
    try {
      const { allowed, retryAfterMs } = await store.acquire(principalOf(res).owner, perSecond, burst);
      if (allowed) return next();
      next(new OverloadedError(`this API key sends more than ${perSecond} requests per second`, Math.max(1, Math.ceil(retryAfterMs / 1000)), 'RATE_LIMITED'));
    } catch (err) {
      next(err);
    }
  };
}
