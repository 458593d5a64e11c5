/**
 * Runs inside the hub namespace of the multi-host test (started with `ip netns exec`): the
 * S3-protocol server on the hub's address, and the bridges between the hub's TCP ports and
 * socket files in HUB_DIR, through which the test (outside every namespace) reaches the API
 * and S3, and the workers reach the test's webhook receiver.
 */
import path from 'node:path';
import S3rver from 's3rver';
import { bridge } from './socket-bridge.js';

const dir = process.env.HUB_DIR!;
const host = process.env.HUB_ADDR!;
const ports = { api: Number(process.env.HUB_API_PORT), s3: Number(process.env.HUB_S3_PORT), hook: Number(process.env.HUB_HOOK_PORT) };

const s3 = new S3rver({ port: ports.s3, address: host, directory: path.join(dir, 's3'), silent: true, configureBuckets: [{ name: process.env.HUB_BUCKET! }] });
await s3.run();
await bridge({ path: path.join(dir, 'api.sock') }, { host, port: ports.api });
await bridge({ path: path.join(dir, 's3.sock') }, { host, port: ports.s3 });
await bridge({ host, port: ports.hook }, { path: path.join(dir, 'hook.sock') });
console.log('hub services ready');
process.on('SIGTERM', () => process.exit(0));
