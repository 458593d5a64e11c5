import type { Express } from 'express';

/** Every (method, path) an Express app routes, from its own tables: "GET /v1/jobs/:id". */
export function routesOf(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[], prefix = '') => {
    for (const layer of stack) {
      if (layer.route) {
        for (const p of [layer.route.path].flat()) for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${prefix}${p}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack as typeof stack, prefix);
    }
  };
  walk((app as unknown as { router: { stack: Parameters<typeof walk>[0] } }).router.stack);
  return [...new Set(out)];
}
