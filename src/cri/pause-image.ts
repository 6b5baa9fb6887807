// The sandbox ("pause") image a CRI runtime starts for every pod, built locally because no
// registry is reachable: a static C program that sleeps until SIGTERM/SIGINT and reaps
// children, packed as an OCI image layout tarball for `ctr images import`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tar } from './oci-tar.js';

export const PAUSE_IMAGE = 'localhost/braid/pause:3.9';

const PAUSE_C = `#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void down(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main(void) {
  struct sigaction down_act = {0}, reap_act = {0};
  down_act.sa_handler = down;
  reap_act.sa_handler = reap;
  reap_act.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGINT, &down_act, NULL) < 0 || sigaction(SIGTERM, &down_act, NULL) < 0 ||
      sigaction(SIGCHLD, &reap_act, NULL) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
`;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const ociArch = () => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' })[process.arch as string] ?? process.arch;

function compilePause(dir: string): Buffer {
  const src = join(dir, 'pause.c');
  const bin = join(dir, 'pause');
  writeFileSync(src, PAUSE_C);
  execFileSync('gcc', ['-static', '-Os', '-Wall', '-o', bin, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('strip', [bin], { stdio: 'ignore' });
  return readFileSync(bin);
}

/** An OCI image layout (oci-layout, index.json, blobs) holding one image named `name`. */
export function ociImageTar(name: string, files: Array<{ path: string; data: Buffer; mode: number }>, entrypoint: string[]): Buffer {
  const layer = tar(files.map((f) => ({ name: f.path, data: f.data, mode: f.mode })));
  const config = Buffer.from(
    JSON.stringify({
      architecture: ociArch(),
      os: 'linux',
      config: { Entrypoint: entrypoint, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(layer)}`, size: layer.length }],
    }),
  );
  const tag = name.slice(name.lastIndexOf(':') + 1);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha(manifest)}`,
          size: manifest.length,
          // containerd's importer names the image from this annotation.
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  const blob = (b: Buffer) => ({ name: `blobs/sha256/${sha(b)}`, data: b });
  return tar([
    { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', data: index },
    { name: 'blobs' },
    { name: 'blobs/sha256' },
    blob(config),
    blob(manifest),
    blob(layer),
  ]);
}

/**
 * The pause image tarball, built once per source version and cached in the temp dir, so test
 * files and runs share it. Needs gcc with a static libc (libc6-dev).
 */
export function pauseImageTar(cacheDir = tmpdir()): string {
  const out = join(cacheDir, `braid-pause-${sha(PAUSE_C + PAUSE_IMAGE + ociArch()).slice(0, 12)}.tar`);
  if (existsSync(out)) return out;
  const work = mkdtempSync(join(cacheDir, 'braid-pause-build-'));
  try {
    const image = ociImageTar(PAUSE_IMAGE, [{ path: 'pause', data: compilePause(work), mode: 0o755 }], ['/pause']);
    const tmp = join(work, 'image.tar');
    writeFileSync(tmp, image);
    renameSync(tmp, out); // atomic: a concurrent builder sees a whole file or none
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}
