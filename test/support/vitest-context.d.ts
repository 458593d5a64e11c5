// Values the global set-up provides to every test file (see global-setup.ts).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    s3Endpoint: string;
    s3Bucket: string;
  }
}
