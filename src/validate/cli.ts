// `braid validate`: the edge. Owns argv, stdin, stdout/stderr, the environment and the exit
// code (0 clean, 1 findings that fail, 2 usage); everything below takes parameters.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { codesHelp } from './codes.js';
import { countBySeverity } from './finding.js';
import { loadInputs } from './load-inputs.js';
import { formatHuman, formatJson } from './report.js';
import { validateFiles } from './validate.js';

// Where runtimes and Debian's containernetworking-plugins keep CNI binaries.
export const DEFAULT_CNI_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];

export const VALIDATE_HELP = `braid validate: lint CNI networking configs, NetworkAttachmentDefinitions and pod annotations

Usage:
  braid validate [options] PATH...

PATH is a file, a directory (walked recursively for *.conflist, *.conf, *.json, *.yaml,
*.yml) or - for stdin. Recognised documents:
  - CNI configuration lists (.conflist) and single-plugin configs (.conf, .json),
    braid's own config (type: braid) included;
  - Kubernetes YAML or JSON, multi-document: NetworkAttachmentDefinitions (their
    spec.config and name) and Pods or pod templates (Deployment, StatefulSet, DaemonSet,
    ReplicaSet, Job, CronJob, ...) with the annotations k8s.v1.cni.cncf.io/networks,
    v1.multus-cni.io/default-network or cni. References are checked against the
    NADs and files given, when any were given.

Checks, in layers: syntax (parse errors with line and column); schema (the JSON Schemas
of conflist-schemas/: types, enums, required fields, unknown keys); semantics (network
name, cniVersion(s), chain order, IPAM presence, subnets, ranges, gateways and routes,
bandwidth rates and bursts, capabilities, duplicate names and overlapping subnets across
files); binaries (with --cni-path or CNI_PATH: each plugin binary exists, is executable
and its VERSION answer supports the cniVersion; without them, installed binaries in the
default dirs are still asked about the cniVersion); annotations (both forms of the networks
annotation, interface names, IPs, MACs, ports, duplicate interfaces, default-route).

Options:
  --format human|json   output format (default human); json prints one document:
                        {version, ok, strict, summary, files, findings[]}, each finding
                        {code, severity, file, pointer, line, column, message, hint}
  --strict              warnings fail too
  --cni-path DIRS       colon-separated plugin directories (default: $CNI_PATH). With
                        neither, the binaries in /opt/cni/bin and /usr/lib/cni are
                        asked only whether they support each cniVersion
  --no-binaries         skip the binary layer (configs for other nodes)
  --no-color            never colour (colour is used only on a terminal, and never
                        when NO_COLOR is set)
  -h, --help            this help

Exit status: 0 clean (warnings allowed unless --strict), 1 an error (or, with --strict,
a warning), 2 usage error (bad option, missing path).

Finding codes (E error, W warning; the README has the full table):
${codesHelp()}
`;

interface Args {
  noBinaries?: boolean;
  paths: string[];
  format: 'human' | 'json';
  strict: boolean;
  cniPath?: string[];
  noColor: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { paths: [], format: 'human', strict: false, noColor: false, help: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const take = () => inline ?? value(i++, flag);
    switch (flag) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--strict':
        args.strict = true;
        break;
      case '--no-color':
        args.noColor = true;
        break;
      case '--no-binaries':
        args.noBinaries = true;
        break;
      case '--format': {
        const f = take();
        if (f !== 'human' && f !== 'json') throw new UsageError(`--format must be human or json, got ${JSON.stringify(f)}`);
        args.format = f;
        break;
      }
      case '--cni-path':
        args.cniPath = [...(args.cniPath ?? []), ...take().split(':').filter(Boolean)];
        break;
      case '--':
        args.paths.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${JSON.stringify(a)}`);
        args.paths.push(a);
    }
  }
  return args;
}

export async function validateMain(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (!args.help && args.paths.length === 0) throw new UsageError('no PATH given (use - to read stdin)');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`braid validate: ${e.message}\nRun 'braid validate --help' for usage.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }

  const loaded = loadInputs(args.paths, () => readFileSync(0, 'utf8'));
  if (loaded.missing.length > 0) {
    process.stderr.write(`braid validate: no such file or directory: ${loaded.missing.join(', ')}\n`);
    return 2;
  }
  const asked = (args.cniPath ?? (process.env.CNI_PATH ?? '').split(':').filter(Boolean)).map((d) => resolve(d));
  // Neither given: the machine's own plugin dirs still reveal a cniVersion its binaries refuse.
  const cniPath = args.noBinaries ? [] : asked.length > 0 ? asked : DEFAULT_CNI_DIRS.filter((d) => existsSync(d));
  const result = await validateFiles(loaded.files, { cniPath, implicitPath: asked.length === 0 });
  for (const dir of loaded.emptyDirs) {
    result.findings.push({ code: 'BRD105', severity: 'warning', file: dir, pointer: '', message: `no *.conflist, *.conf, *.json, *.yaml or *.yml files under ${dir}` });
  }

  const color = !args.noColor && process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(args.format === 'json' ? formatJson(result, args) : formatHuman(result, { color, strict: args.strict }));
  const { errors, warnings } = countBySeverity(result.findings);
  return errors > 0 || (args.strict && warnings > 0) ? 1 : 0;
}
