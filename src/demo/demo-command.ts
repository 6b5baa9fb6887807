// `braid demo`: the edge. Owns argv, signals, stdout and the exit status; the Demo
// does the work. Run by `npm run demo` as `node dist/braid demo`.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { existingDir, parseFlags, UsageError } from '../cli/flags.js';
import { runningBinary } from '../install/install-command.js';
import { Demo, type DemoOptions } from './demo-run.js';
import { NADS_FILE, PODS_FILE } from './scenario.js';
import { Report, colorWanted } from './report.js';

export const DEMO_HELP = `braid demo: braid's main job, end to end, on this machine (as root)

Usage:
  braid demo [options]          (npm run demo builds braid first and installs missing packages)

Starts a loopback Kubernetes API server holding the NADs and pods of annotations/${NADS_FILE}
and annotations/${PODS_FILE}, writes a cluster network into a temporary CNI conf dir, runs
'braid install' there, then creates both pods the way kubelet does: RunPodSandbox over CRI
to a private containerd whose CRI plugin runs the installed braid (or, without containerd,
braid's built-in runtime does the ADD through the CNI protocol). Shows each pod's interfaces, the merged CNI
result and the network-status annotation, pings one pod from the other over the secondary
networks, deletes the pods (DEL), and checks that no namespace, link, IP reservation, iptables rule or
cache record is left. Everything is removed at the end, also after an error or Ctrl-C.
Names start with braid-demo-; subnets are 198.19.10-12.0/24.

Options:
  --plugins DIR     reference CNI plugins (default: /usr/lib/cni or /opt/cni/bin)
  --examples DIR    where ${NADS_FILE} and ${PODS_FILE} are (default: annotations/ of the repo)
  --runtime WHICH   who creates the pods: containerd (its CRI plugin, a private instance),
                    builtin (braid's own libcni-equivalent), or auto (default: containerd
                    when containerd, runc and gcc are installed, else builtin)
  --verbose         also print the raw CNI results and braid's log
  --no-color        no colour (colour is used only on a terminal, and never with NO_COLOR)
  -h, --help        this help

Exit status: 0 all well and nothing left, 1 a failure or a leftover, 2 usage, 130 interrupted.
`;

export async function demoMain(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    plugins: { type: 'string' },
    examples: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    runtime: { type: 'string', default: 'auto' },
    'no-color': { type: 'boolean', default: false },
  });
  if (!['auto', 'containerd', 'builtin'].includes(values.runtime as string)) {
    throw new UsageError(`--runtime must be auto, containerd or builtin, got ${JSON.stringify(values.runtime)}`);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  if (values.plugins !== undefined) existingDir('--plugins', values.plugins as string);
  if (values.examples !== undefined) existingDir('--examples', values.examples as string);
  const write = (t: string) => void process.stdout.write(t);
  const report = new Report({ color: colorWanted(process.stdout.isTTY, process.env, values['no-color'] === true), write });
  let bundle: string;
  try {
    bundle = runningBinary(process.argv[1]);
  } catch {
    process.stderr.write('braid demo: run the built braid (npm run build; node dist/braid demo)\n');
    return 1;
  }
  const distDir = dirname(bundle);
  const apiScript = join(distDir, 'fake-apiserver.cjs');
  if (!existsSync(apiScript)) {
    process.stderr.write(`braid demo: ${apiScript} is missing; npm run build makes it beside braid\n`);
    return 1;
  }
  const examplesDir = resolve((values.examples as string | undefined) ?? join(distDir, '..', 'annotations'));
  const demo = new Demo(
    {
      bundle,
      apiScript,
      examplesDir,
      pluginDir: values.plugins as string | undefined,
      verbose: values.verbose === true,
      lockFile: existsSync('/run') ? '/run/braid-demo.lock' : join(distDir, '.braid-demo.lock'),
      runtime: values.runtime as DemoOptions['runtime'],
    },
    report,
  );
  write(`${report.style('bold', 'braid demo')}: two pods, a cluster network and two NADs, on this machine\n`);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    process.stderr.write(signals === 1 ? `\n${sig}: finishing the current step, then cleaning up\n` : `${sig}: still cleaning up, please wait\n`);
    demo.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    return await demo.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}
