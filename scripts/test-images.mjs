// `npm run test:images`: builds the images with podman and runs test/images against the compose
// stack made from them (vitest.images.config.ts). Installs podman and its tools from Debian
// when root can; where they cannot be had the test skips and says why. See docs/building.md.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildImages, describeBuild } from './images.mjs';
import { ensureDependencies, root, say } from './lib.mjs';
import { ensurePodman, podmanUnavailable } from './podman.mjs';

ensureDependencies();
ensurePodman({ optional: true });
// Built here rather than in the test: a build blocks for minutes, vitest's worker must not.
if (!podmanUnavailable()) {
  say(describeBuild(await buildImages()));
}
say('test/images: the images run as the compose stack');
const r = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'vitest.images.config.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
