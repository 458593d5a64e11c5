import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => run('ip', args);

/** Why this machine cannot build namespaces and veth pairs, or null when it can (tried for real). */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces and veth pairs needs root';
  const probe = `spm-probe-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `\`ip netns add\` failed: ${(add.stderr || add.error?.message || `exit ${add.status}`).trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export interface Host {
  ns: string;
  /** The veth end in the hub: the one `cut` takes down. */
  hubSide: string;
  addr: string;
}

/**
 * A hub namespace and one namespace per host, each host joined to the hub by its own veth pair
 * (10.77.<n>.0/30). The hub carries the service address 10.77.0.1 on its loopback, where Redis,
 * S3 and the API listen; each host routes to it over its link. Names are unique per run; every
 * namespace made so far is removed if building fails, and by `remove()` (veths go with them).
 */
export async function buildNetwork(hostNames: string[]) {
  const id = randomBytes(2).toString('hex');
  const hub = `spm-${id}-hub`;
  const service = '10.77.0.1';
  const created: string[] = [];
  const hosts: Record<string, Host> = {};
  const remove = async () => {
    for (const ns of [...created].reverse()) await ip('netns', 'del', ns).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', hub);
    created.push(hub);
    await ip('-n', hub, 'link', 'set', 'lo', 'up');
    await ip('-n', hub, 'addr', 'add', `${service}/32`, 'dev', 'lo');
    for (const [i, name] of hostNames.entries()) {
      const ns = `spm-${id}-${name}`;
      await ip('netns', 'add', ns);
      created.push(ns);
      const hubSide = `spm${id}h${i}`;
      const hostSide = `spm${id}n${i}`;
      await ip('link', 'add', hubSide, 'netns', hub, 'type', 'veth', 'peer', 'name', hostSide, 'netns', ns);
      const net = `10.77.${i + 1}`;
      await ip('-n', hub, 'addr', 'add', `${net}.1/30`, 'dev', hubSide);
      await ip('-n', ns, 'addr', 'add', `${net}.2/30`, 'dev', hostSide);
      for (const [n, dev] of [[hub, hubSide], [ns, hostSide], [ns, 'lo']] as const) await ip('-n', n, 'link', 'set', dev, 'up');
      await ip('-n', ns, 'route', 'add', 'default', 'via', `${net}.1`);
      hosts[name] = { ns, hubSide, addr: `${net}.2` };
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    hub,
    service,
    hosts,
    /** Takes the hub's end of a host's link down: packets stop both ways; the host keeps its address and routes, as with a pulled cable. */
    cut: (name: string) => ip('-n', hub, 'link', 'set', hosts[name]!.hubSide, 'down'),
    restore: (name: string) => ip('-n', hub, 'link', 'set', hosts[name]!.hubSide, 'up'),
    remove,
  };
}

export type Network = Awaited<ReturnType<typeof buildNetwork>>;
