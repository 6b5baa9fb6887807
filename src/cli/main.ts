// braid's single entry. With CNI_COMMAND set (and no subcommand) it is a CNI plugin;
// otherwise it is an operator CLI. Subcommands load lazily so a CNI call pays for nothing else.
import { runCniEdge } from './cni-edge.js';
import { UsageError } from './flags.js';
import { flushTrace } from '../trace.js';
import { runExitHooks } from '../exit-hooks.js';

type Command = (argv: string[]) => Promise<number>;
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  net: { summary: 'run a network configuration list by hand (cnitool-compatible)', load: async () => (await import('../net/net-command.js')).netMain },
  validate: { summary: 'lint conflists, NetworkAttachmentDefinitions and pod annotations', load: async () => (await import('../validate/cli.js')).validateMain },
  daemon: { summary: 'serve CNI requests over a unix socket for braid-shim (thick mode)', load: async () => (await import('../daemon/daemon-command.js')).daemonMain },
  install: { summary: "make braid the node's default CNI network (copy binary, write 00-braid.conflist)", load: async () => (await import('../install/install-command.js')).installMain },
  manifests: { summary: 'print Kubernetes YAML to deploy braid (CRD, RBAC, DaemonSet)', load: async () => (await import('../manifests/manifests-command.js')).manifestsMain },
  inspect: { summary: "show braid's records of the node's pods, what is really there, and the differences", load: async () => (await import('../node/inspect-command.js')).inspectMain },
  gc: { summary: 'remove records of containers that no longer exist (--dry-run lists them)', load: async () => (await import('../node/gc-command.js')).gcMain },
  demo: { summary: 'run the end-to-end demo: two pods, three networks, real namespaces (root)', load: async () => (await import('../demo/demo-command.js')).demoMain },
};

export const HELP = `braid: a CNI meta-plugin that attaches pods to several networks

Usage:
  braid <command> [options]
  CNI_COMMAND=ADD|DEL|CHECK|STATUS|GC|VERSION braid < config.json   (as a CNI plugin)

Commands:
${Object.entries(COMMANDS)
  .map(([k, v]) => `  ${k.padEnd(10)} ${v.summary}`)
  .join('\n')}
  help       show this help

Run 'braid <command> --help' for a command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined && process.env.CNI_COMMAND) {
    // The answer is written and logs are synchronous: exit now rather than tear down the heap.
    const code = await runCniEdge(process.env);
    await runExitHooks();
    flushTrace();
    process.exit(code);
  }
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write(`braid ${BRAID_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`braid: unknown command ${JSON.stringify(cmd)}\nRun 'braid help' for the commands.\n`);
    return 2;
  }
  let code: number;
  try {
    code = await (await entry.load())(rest);
  } catch (e) {
    // One style for every command: "braid <command>: <what was wrong>", 2 for usage, else 1.
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`braid ${cmd}: ${e.message}\nRun 'braid ${cmd} --help' for the options.\n`);
    code = 2;
  }
  await runExitHooks();
  return code;
}

declare const BRAID_VERSION: string;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`braid: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
