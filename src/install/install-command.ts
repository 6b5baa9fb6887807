// `braid install`: the edge. Owns argv, signals, stdout/stderr and the exit code;
// the Installer below does the work with its inputs passed in.
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkInstallInputs, INSTALL_HELP, parseInstallArgs, type InstallOptions } from './install-options.js';
import { Installer, type Say } from './installer.js';

/** The braid bundle being run: process.argv[1], if it is one (a script starting with "#!"). */
export function runningBinary(argv1: string | undefined): string {
  const why = `cannot tell which braid binary to install (running from ${argv1 ?? 'nowhere'}, not a built braid bundle); pass --source PATH`;
  if (!argv1) throw new Error(why);
  const path = realpathSync(argv1);
  const head = Buffer.alloc(2);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString() !== '#!') throw new Error(why);
  return path;
}

/**
 * What goes onto the host. Daemon mode: braid-shim alone, a static C program, since braid and
 * Node.js run in the daemon's container. One-shot: braid, and braid-spawner where the build
 * made one (braid starts its delegates through it when it sits beside braid).
 */
function binaries(o: InstallOptions): Array<{ src: string; dest: string }> {
  const braid = o.source ?? runningBinary(process.argv[1]);
  const beside = (name: string) => join(dirname(braid), name);
  if (o.daemon) {
    if (!statSync(beside('braid-shim'), { throwIfNoEntry: false })?.isFile()) {
      throw new Error(`daemon mode needs the braid-shim binary beside ${braid} (${beside('braid-shim')} is missing; npm run build makes it), or pass --one-shot`);
    }
    return [{ src: beside('braid-shim'), dest: join(o.binDir, 'braid-shim') }];
  }
  const out = [{ src: braid, dest: join(o.binDir, 'braid') }];
  if (statSync(beside('braid-spawner'), { throwIfNoEntry: false })?.isFile()) out.push({ src: beside('braid-spawner'), dest: join(o.binDir, 'braid-spawner') });
  return out;
}

export async function installMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const o = parseInstallArgs(argv);
  if (o.help) {
    process.stdout.write(INSTALL_HELP);
    return 0;
  }
  await checkInstallInputs(o);
  const say: Say = (msg) => process.stderr.write(`braid install: ${msg}\n`);
  let installer: Installer;
  try {
    installer = new Installer(o, { binaries: binaries(o), env, say, print: (t) => process.stdout.write(t) });
  } catch (e) {
    say((e as Error).message);
    return 1;
  }
  const stop = (signal: string) => {
    say(`${signal} received, stopping`);
    installer.stop();
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    return await installer.run();
  } catch (e) {
    say((e as Error).message);
    return 1;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}
