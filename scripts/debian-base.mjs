// The Debian bookworm base image, made with debootstrap where no registry serves
// debian:bookworm-slim: from the mirror this machine's apt uses (read from its sources at run
// time), with the same apt sources and network settings, so that `apt-get install` in a RUN
// step works as it does on the host, and with the host's CA certificates (outbound HTTPS
// here passes an intercepting proxy). Slimmed as Debian's own slim images are. Made once per
// set of inputs: the image carries their digest as a label, and an image whose label matches
// is used as it is.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, say } from './lib.mjs';
import { podmanEnv } from './podman.mjs';

export const DEBIAN_BASE = 'localhost/spotter-stand-in/debian:bookworm-minbase';
const SUITE = 'bookworm';
// Bump when the recipe below changes, so that images made by the old one are remade.
const RECIPE = 1;
const APT = '/etc/apt';
const HOST_CA = process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS) ? process.env.NODE_EXTRA_CA_CERTS : '/etc/ssl/certs/ca-certificates.crt';
const IMAGE_CA = '/usr/local/share/ca-certificates/host-ca-bundle.crt';

/** The host's apt source files (one-line .list and deb822 .sources), as [path, text]. */
function aptSources() {
  const files = [path.join(APT, 'sources.list')];
  const dir = path.join(APT, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(path.join(dir, f));
  return files.filter(existsSync).map((f) => [f, readFileSync(f, 'utf8')]);
}

/** The URI of the host's source for Debian `bookworm` main, or undefined. */
export function debianMirror() {
  for (const [file, text] of aptSources()) {
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('Components').includes('main') && !/^Enabled:\s*no/mi.test(stanza)) return field('URIs')[0];
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (m && m[2] === SUITE && m[3].split(/\s+/).includes('main')) return m[1];
      }
    }
  }
  return undefined;
}

/** apt.conf.d files that set how apt reaches its mirror (proxies, Release validity checks). */
const aptNetworkConf = () =>
  existsSync(path.join(APT, 'apt.conf.d'))
    ? readdirSync(path.join(APT, 'apt.conf.d')).sort().map((f) => path.join(APT, 'apt.conf.d', f)).filter((f) => /^\s*Acquire::/m.test(readFileSync(f, 'utf8')))
    : [];

function inputsDigest(mirror) {
  const h = createHash('sha256').update(`recipe ${RECIPE}\nmirror ${mirror}\n`);
  for (const f of [...aptSources().map(([f]) => f), ...aptNetworkConf(), HOST_CA]) h.update(f).update('\0').update(readFileSync(f));
  return h.digest('hex');
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

// What Debian's slim images leave out, for every package installed later too.
const SLIM = ['path-exclude /usr/share/doc/*', 'path-include /usr/share/doc/*/copyright', 'path-exclude /usr/share/man/*', 'path-exclude /usr/share/groff/*', 'path-exclude /usr/share/info/*', 'path-exclude /usr/share/lintian/*', 'path-exclude /usr/share/linda/*', 'path-exclude /usr/share/locale/*', 'path-include /usr/share/locale/locale.alias'];

/** Populates `rootfs` with debootstrap and the host's apt set-up and CA certificates. */
function makeRootfs(rootfs, mirror) {
  say(`debootstrap --variant=minbase ${SUITE} (the mirror of this machine's apt sources)`);
  sh('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror], { stdio: ['ignore', 'ignore', 'inherit'] });
  const at = (p) => path.join(rootfs, p);
  // apt as on the host: the same sources (updates and security too) and network settings.
  rmSync(at('etc/apt/sources.list'), { force: true });
  for (const [file] of aptSources()) copyFileSync(file, at(file));
  for (const file of aptNetworkConf()) copyFileSync(file, at(file));
  writeFileSync(at('etc/apt/apt.conf.d/docker-clean'), 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nAPT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nDir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n');
  writeFileSync(at('etc/dpkg/dpkg.cfg.d/docker-slim'), `${SLIM.join('\n')}\n`);
  // The host's CA bundle, where update-ca-certificates keeps it if ca-certificates is installed later.
  mkdirSync(path.dirname(at(IMAGE_CA)), { recursive: true });
  copyFileSync(HOST_CA, at(IMAGE_CA));
  mkdirSync(at('etc/ssl/certs'), { recursive: true });
  copyFileSync(HOST_CA, at('etc/ssl/certs/ca-certificates.crt'));
  // Slim: no package caches or lists, no documentation or translations.
  sh('sh', ['-c', 'rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb var/log/*.log var/log/apt/* usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* && find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete && find usr/share/doc -mindepth 1 -type d -empty -delete && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +'], { cwd: rootfs });
}

/** Makes the Debian base image when no image with these inputs exists; returns its name. */
export function debianBase() {
  const mirror = debianMirror();
  if (!mirror) fail(`no Debian ${SUITE} source in ${APT}: the base image is debootstrapped from the mirror this machine's apt uses`);
  const digest = inputsDigest(mirror);
  const label = 'org.spotter.stand-in.inputs';
  const current = spawnSync('podman', ['image', 'inspect', '--format', `{{ index .Labels "${label}" }}`, DEBIAN_BASE], { encoding: 'utf8', env: podmanEnv() }).stdout.trim();
  if (current === digest) return { name: DEBIAN_BASE, made: false };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spotter-debootstrap-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    makeRootfs(rootfs, mirror);
    const changes = [`LABEL ${label}=${digest}`, 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `ENV NODE_EXTRA_CA_CERTS=${IMAGE_CA}`, 'CMD ["bash"]'];
    sh('sh', ['-c', `tar --numeric-owner -C "$1" -c . | podman import ${changes.map((c) => `--change '${c}'`).join(' ')} - "$2" >/dev/null`, 'sh', rootfs, DEBIAN_BASE], { env: podmanEnv() });
    return { name: DEBIAN_BASE, made: true };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
