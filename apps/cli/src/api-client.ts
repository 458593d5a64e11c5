import type { Config } from '@spotter/config';
import { createSpotterClient, SpotterApiError, type SpotterClient } from '@spotter/client';

/** The HTTP API as the command line reaches it (@spotter/client): SPOTTER_URL and SPOTTER_API_KEY, or --url and --key. */
export function apiClient(config: Config, flags: { url?: string | undefined; key?: string | undefined } = {}): SpotterClient {
  const key = flags.key ?? config.client.apiKey;
  return createSpotterClient({ url: flags.url ?? config.client.url, ...(key ? { apiKey: key } : {}) });
}

/** What the command line prints for a refused call; a refused promotion carries the gate's table. */
export function cliMessage(err: unknown): string {
  if (!(err instanceof SpotterApiError)) return (err as Error).message;
  const gate = (err.body as { error?: { gate?: unknown } } | null)?.error?.gate;
  return `${err.status}: ${(err.body as { error?: { message?: string } } | null)?.error?.message ?? err.message}${gate ? `\n${JSON.stringify(gate, null, 2)}` : ''}`;
}
