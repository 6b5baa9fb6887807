// `braid validate`: the edge. Owns argv, stdin, stdout/stderr, the environment and the exit
// code (0 clean, 1 findings that fail, 2 usage); everything below takes parameters.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execVersionProbe } from './binary-layer.js';
import { codesHelp } from './codes.js';
import { loadInputs } from './load-inputs.js';
import { NEWEST_PLUGINS, normalizePluginsVersion, probePluginsVersion, type PluginsVersion } from './plugin-versions.js';
import { FORMATS, formatReport, runFails, type Format } from './report.js';
import { parseCommandLine, UsageError, type FlagSpecs } from '../cli/flags.js';
import { findConfigFile, loadRuleConfig, RuleConfigError, ruleFlags } from './rule-config.js';
import { validateFiles } from './validate.js';

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
files); binaries (only with --cni-path, CNI_PATH or --node: each plugin binary exists, is
executable and its VERSION answer supports the cniVersion); node (only with --node: the
macvlan/ipvlan/vlan masters and host-device devices exist in this machine's
/sys/class/net; a config applied to a cluster names other machines' links); annotations (both forms
of the networks annotation, interface names, IPs, MACs, ports, duplicate interfaces,
default-route, capabilities). ConfigMaps holding a *.conf/*.conflist or a CNI, braid or
Multus JSON config are checked like files; so are Multus's 00-multus.conf (type multus)
and daemon-config.json (thick).

Version-dependent rules follow the containernetworking/plugins release: --plugins-version,
else pluginsVersion in the rule config, else (with --cni-path) the bridge binary found
there, else ${NEWEST_PLUGINS}, the newest release the rules know.

Rule config: the nearest .braid-validate.yaml (or .yml, .json) from the working directory
up to the repository root, or --config FILE:
  rules:
    BRD208: off          # error | warning | info | off
    BRD205: error
  pluginsVersion: 1.1.1

Options:
  --format FORMAT       human (default); line: one finding per line,
                        "file:line:col: severity code message (hint: ...)"; json: one
                        document {version, ok, strict, summary, files, findings[]}, each
                        finding {code, severity, file, pointer, line, column, message,
                        hint}; sarif: SARIF 2.1.0 for code-scanning UIs
  --strict              warnings fail too (info never does)
  -q, --quiet           print only the findings that fail the run, and nothing when
                        none does
  --rule CODE=SEVERITY  set a rule's severity (error, warning, info) or turn it off;
                        repeatable, or comma-separated
  --disable CODE        turn a rule off (same as --rule CODE=off); repeatable
  --config FILE         rule config to use instead of the nearest .braid-validate.yaml
  --no-config           use no rule config file
  --plugins-version V   the containernetworking/plugins release the configs run with
                        (default ${NEWEST_PLUGINS}; see above)
  --cni-path DIRS       colon-separated plugin directories (default: $CNI_PATH): check
                        the binaries there
  --node                validate for this machine: its links (/sys/class/net), and its
                        binaries (--cni-path, else /opt/cni/bin and /usr/lib/cni)
  --no-binaries         skip the binary and node checks even when CNI_PATH is set
  --no-color            never colour (colour is used only on a terminal, and never
                        when NO_COLOR is set)
  -h, --help            this help

Exit status: 0 clean (warnings and info allowed; warnings fail with --strict), 1 an error
(or, with --strict, a warning), 2 usage error (bad option, missing path, bad rule config).

Finding codes and default severities (E error, W warning, I info; the README has the table):
${codesHelp()}
`;

const OPTIONS: FlagSpecs = {
  strict: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'no-color': { type: 'boolean' },
  'no-binaries': { type: 'boolean' },
  'no-config': { type: 'boolean' },
  node: { type: 'boolean' },
  format: { type: 'string' },
  'cni-path': { type: 'string', multiple: true },
  'plugins-version': { type: 'string' },
  config: { type: 'string' },
  rule: { type: 'string', multiple: true },
  disable: { type: 'string', multiple: true },
};

// Where runtimes and Debian's containernetworking-plugins keep CNI binaries (--node without --cni-path).
const DEFAULT_CNI_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];

function parseCli(argv: string[]) {
  const parsed = parseCommandLine(argv, OPTIONS, { positionals: true });
  const values = parsed.values;
  const str = (k: string) => values[k] as string | undefined;
  const list = (k: string) => values[k] as string[] | undefined;
  const bool = (k: string) => values[k] === true;
  const v = {
    help: bool('help'),
    strict: bool('strict'),
    quiet: bool('quiet'),
    'no-color': bool('no-color'),
    'no-binaries': bool('no-binaries'),
    'no-config': bool('no-config'),
    node: bool('node'),
    format: str('format'),
    'cni-path': list('cni-path'),
    'plugins-version': str('plugins-version'),
    config: str('config'),
    rule: list('rule'),
    disable: list('disable'),
  };
  const format = (v.format ?? 'human') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format: ${JSON.stringify(v.format)}: not one of ${FORMATS.join(', ')}`);
  let pluginsVersion: string | undefined;
  if (v['plugins-version'] !== undefined) {
    pluginsVersion = normalizePluginsVersion(v['plugins-version']);
    if (!pluginsVersion) throw new UsageError(`--plugins-version: ${JSON.stringify(v['plugins-version'])}: not a release like 1.8.0`);
  }
  return { v, paths: parsed.positionals, format, pluginsVersion };
}

/** The node's links, for masters and devices, when validating for this machine. */
function hostLinks(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/sys/class/net'));
  } catch {
    return undefined;
  }
}

/** The plugins release the bridge binary of the CNI path reports (or is bounded by). */
async function pluginsVersionFrom(dirs: readonly string[]): Promise<PluginsVersion | undefined> {
  for (const dir of dirs) {
    const path = join(dir, 'bridge');
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    const ans = await execVersionProbe(path);
    return probePluginsVersion(path, ans.supported);
  }
  return undefined;
}

export async function validateMain(argv: string[]): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  let rules;
  let configVersion: string | undefined;
  try {
    cli = parseCli(argv);
    if (cli.v.help) {
      process.stdout.write(VALIDATE_HELP);
      return 0;
    }
    if (cli.paths.length === 0) throw new UsageError('no PATH given (use - to read stdin)');
    const file = cli.v['no-config'] ? undefined : cli.v.config ? resolve(cli.v.config) : findConfigFile(process.cwd());
    const fromFile = file ? await loadRuleConfig(file) : undefined;
    rules = new Map([...(fromFile?.rules ?? []), ...ruleFlags(cli.v.rule ?? [], cli.v.disable ?? [])]);
    if (fromFile?.pluginsVersion !== undefined) {
      configVersion = normalizePluginsVersion(fromFile.pluginsVersion);
      if (!configVersion) throw new UsageError(`${file}: pluginsVersion: ${JSON.stringify(fromFile.pluginsVersion)}: not a release like 1.8.0`);
    }
  } catch (e) {
    // A broken rule config file is a usage problem too: reported like every other one.
    if (e instanceof RuleConfigError) throw new UsageError(e.message);
    throw e;
  }
  const { v } = cli;

  const loaded = loadInputs(cli.paths, () => readFileSync(0, 'utf8'));
  if (loaded.missing.length > 0) throw new UsageError(`${loaded.missing.join(', ')}: no such file or directory`);
  const asked = (v['cni-path'] ?? [process.env.CNI_PATH ?? '']).flatMap((d) => d.split(':')).filter(Boolean).map((d) => resolve(d));
  // The machine's binaries and links only when asked: a CI runner's plugins say nothing about the cluster's.
  const cniPath = v['no-binaries'] ? [] : asked.length > 0 ? asked : v.node ? DEFAULT_CNI_DIRS : [];
  const explicit = cli.pluginsVersion ?? configVersion;
  const pluginsVersion: PluginsVersion | undefined = explicit
    ? { version: explicit, source: cli.pluginsVersion ? '--plugins-version' : 'rule config pluginsVersion' }
    : cniPath.length > 0
      ? await pluginsVersionFrom(cniPath)
      : undefined;
  const links = v.node ? hostLinks() : undefined;
  const result = await validateFiles(loaded.files, { cniPath, rules, ...(pluginsVersion ? { pluginsVersion } : {}), ...(links ? { hostLinks: links } : {}) });
  for (const dir of loaded.emptyDirs) {
    const setting = rules.get('BRD105');
    if (setting === 'off') continue;
    result.findings.push({ code: 'BRD105', severity: setting ?? 'warning', file: dir, pointer: '', message: `no *.conflist, *.conf, *.json, *.yaml or *.yml files under ${dir}` });
  }

  const strict = v.strict === true;
  const color = !v['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.write(formatReport(cli.format, result, { color, strict, quiet: v.quiet === true }, typeof BRAID_VERSION === 'string' ? BRAID_VERSION : 'dev'));
  return runFails(result.findings, strict) ? 1 : 0;
}

declare const BRAID_VERSION: string;
