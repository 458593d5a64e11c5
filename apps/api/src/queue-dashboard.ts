import type { RequestHandler } from 'express';
import type { JobQueue } from '@spotter/stores';
import { lazyHandler } from './middleware/lazy-handler.js';

/**
 * bull-board over Spotter's queues, mounted at /admin/queues (admin keys only: it shows every
 * tenant's jobs). bull-board is loaded on the first request (see lazyHandler).
 */
export function queueDashboard(queue: JobQueue): RequestHandler {
  return lazyHandler(async () => {
    const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/express'),
    ]);
    const adapter = new ExpressAdapter();
    adapter.setBasePath('/admin/queues');
    createBullBoard({ queues: queue.dashboardQueues().map((q) => new BullMQAdapter(q)), serverAdapter: adapter });
    return adapter.getRouter() as RequestHandler;
  });
}
