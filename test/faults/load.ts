import { datasetImage } from '../support/images.js';
import { postForm } from '../support/spotter.js';
import type { Receiver } from './fault-stack.js';

/**
 * Submits jobs (with a webhook to `receiver`) steadily from `clients` clients; once
 * `acceptedBefore` of them are accepted (so that the fault meets work in flight, however fast
 * the machine), runs `fault`, and goes on one second after it. Returns the ids that got 202
 * and the count of each HTTP status.
 */
export async function steadyLoad(
  target: { url: string; receiver: Pick<Receiver, 'url'> },
  fault: () => Promise<void>,
  opts: { clients: number; headers?: Record<string, string>; acceptedBefore?: number },
) {
  const image = await datasetImage();
  const accepted: string[] = [];
  const statuses: Record<number, number> = {};
  let done = false;
  const clients = Array.from({ length: opts.clients }, async () => {
    while (!done) {
      const res = await postForm(`${target.url}/v1/jobs`, image, { webhook_url: target.receiver.url('/hook') }, opts.headers).catch(() => ({ status: 0, body: null }));
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 202) accepted.push(res.body.id);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  const before = opts.acceptedBefore ?? 8;
  while (accepted.length < before) await new Promise((r) => setTimeout(r, 50));
  await fault();
  await new Promise((r) => setTimeout(r, 1000));
  done = true;
  await Promise.all(clients);
  return { accepted, statuses };
}
