import type { RequestHandler } from 'express';

/**
 * A handler built on first use: for the Swagger UI and the queue dashboard, whose modules and
 * set-up cost the API memory from start-up while most deployments never open them.
 */
export function lazyHandler(load: () => Promise<RequestHandler>): RequestHandler {
  let handler: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    handler ??= load();
    handler.then((h) => h(req, res, next), next);
  };
}
