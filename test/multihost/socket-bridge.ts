import net from 'node:net';

/** Where to listen or connect: a TCP address or a Unix socket path. */
export type Endpoint = { host: string; port: number } | { path: string };

/**
 * Forwards every connection on `listen` to `target`, byte for byte. Network namespaces do not
 * separate Unix sockets on the filesystem, so a bridge from a TCP port inside a namespace to a
 * socket file (or back) is how the test, outside, reaches the services inside.
 */
export function bridge(listen: Endpoint, target: Endpoint): Promise<net.Server> {
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.pipe(outbound).pipe(inbound);
    for (const s of [inbound, outbound]) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, () => resolve(server));
  });
}

/** A bridge from a free loopback port to `target`; returns the port. */
export async function loopbackBridge(target: Endpoint) {
  const server = await bridge({ host: '127.0.0.1', port: 0 }, target);
  return { server, port: (server.address() as net.AddressInfo).port };
}
