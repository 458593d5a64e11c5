import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { JobQueue } from '@spotter/stores';

/** bull-board over Spotter's queues, mounted at /admin/queues (admin keys only: it shows every tenant's jobs). */
export function queueDashboard(queue: JobQueue) {
  const adapter = new ExpressAdapter();
  adapter.setBasePath('/admin/queues');
  createBullBoard({ queues: queue.dashboardQueues().map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
  return adapter.getRouter();
}
