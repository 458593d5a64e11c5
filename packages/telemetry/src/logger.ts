import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs. Credentials are redacted wherever they might appear; image bytes are
 * never handed to the logger in the first place.
 */
export function createLogger(name: string, level: string, mixin?: () => object): Logger {
  return pino({
    name,
    level,
    ...(mixin ? { mixin } : {}),
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}
