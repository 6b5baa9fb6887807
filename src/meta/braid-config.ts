// braid's own plugin config ("type": "braid"). Key names and meanings are Multus's (pkg/types
// NetConf, docs/configuration.md) so a 00-multus.conf with its type changed works unchanged.
import * as z from '../cni/zod.js';
import { CniError, Code } from '../cni/errors.js';
import { issuesToError } from '../cni/zod-issues.js';

/** Multus's levels (debug/verbose/error/panic) and pino's; the logger maps the Multus ones. */
export const LOG_LEVELS = ['trace', 'debug', 'verbose', 'info', 'warn', 'error', 'panic', 'fatal', 'silent'] as const;

// Multus keys braid has no use for (thick-plugin/daemon and log-rotation settings): accepted so a
// Multus config parses without warnings, otherwise ignored.
export const MULTUS_IGNORED_KEYS = [
  'auxiliaryCNIChainName', 'multusConfigFile', 'socketDir', 'logOptions', 'retryDeleteOnError',
  'chrootDir', 'cniConfigDir', 'multusAutoconfigDir',
] as const;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// Multus reads globalNamespaces as "a,b,c" and systemNamespaces as a list; accept both for each.
const namespaceList = (dflt: string[], what: string) =>
  z
    .union([z.string(), z.array(z.string())], { error: `must be a comma-separated string or a list of ${what}` })
    .meta({ default: dflt }) // io "input" JSON Schema shows the pre-transform schema, so say it there
    .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter(Boolean))
    .default(dflt);

const InlineNetwork = z
  .union([z.looseObject({ type: z.string().min(1) }), z.looseObject({ plugins: z.array(z.unknown()).min(1) })], {
    error: 'must be a CNI config (with "type") or a config list (with "plugins")',
  })
  .describe('An inline CNI network configuration or configuration list.');

const ignored = z.unknown().optional().describe('Multus key: accepted and ignored by braid.');

export const BraidConfigSchema = z.object({
  cniVersion: z.string().optional(),
  name: z.string().optional(),
  type: z.string().min(1).describe('"braid" (or the name braid is installed under, e.g. "multus").'),
  kubeconfig: z.string().optional().describe('Kubeconfig for reading pods and NetworkAttachmentDefinitions.'),
  clusterNetwork: z
    .union([z.string().min(1), InlineNetwork], { error: 'must be a NAD name, a file or directory path, or an inline config' })
    .optional()
    .describe('The cluster default network: NAD name, conf/conflist file, directory, or an inline config (braid extension).'),
  defaultNetworks: z.array(z.string().min(1)).default([]).describe('Networks attached to every pod outside systemNamespaces.'),
  delegates: z
    .array(InlineNetwork)
    .optional()
    .describe('Inline networks; the first is the cluster network when clusterNetwork is absent. Ignored when clusterNetwork is set.'),
  confDir: z.string().min(1).default('/etc/cni/braid/net.d'),
  cniDir: z.string().min(1).default('/var/lib/cni/braid'),
  podResourcesSocket: z
    .string()
    .min(1)
    .default('/var/lib/kubelet/pod-resources/kubelet.sock')
    .describe("The kubelet's PodResources gRPC socket: the devices a NAD's k8s.v1.cni.cncf.io/resourceName asks for."),
  multusCniDir: z
    .string()
    .min(1)
    .default('/var/lib/cni/multus')
    .describe("Multus's cniDir: DEL, CHECK and GC of a pod braid has no plan for read Multus's cache of it here (a pod attached before the switch)."),
  binDir: z
    .union([z.string(), z.array(z.string())], { error: 'must be a path, a ":"-separated list of paths, or a list' })
    .meta({ default: [] })
    .transform((v) => (typeof v === 'string' ? v.split(':') : v).filter(Boolean))
    .default([])
    .describe('Extra plugin directories searched before CNI_PATH; ":"-separated like Multus.'),
  namespaceIsolation: z.boolean().default(false),
  globalNamespaces: namespaceList(['default'], 'namespaces').describe('Namespaces any pod may use under namespaceIsolation.'),
  systemNamespaces: namespaceList(['kube-system'], 'namespaces').describe('Namespaces whose pods do not get defaultNetworks.'),
  multusNamespace: z
    .string()
    .regex(LABEL, 'must be a DNS-1123 label')
    .default('kube-system')
    .describe('Namespace of the clusterNetwork/defaultNetworks NADs.'),
  readinessindicatorfile: z.string().optional().describe('File whose existence means the cluster network is ready.'),
  logFile: z.string().optional(),
  logLevel: z.string().optional().describe(`One of ${LOG_LEVELS.join(', ')} (any case).`),
  logToStderr: z.boolean().optional().describe('Default: log to stderr only when there is no logFile.'),
  capabilities: z.record(z.string(), z.boolean()).optional(),
  runtimeConfig: z.record(z.string(), z.unknown()).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  prevResult: z.unknown().optional(),
  strictCapabilities: z
    .boolean()
    .default(false)
    .describe('Refuse ips/mac/portMappings/bandwidth/infiniband-guid requests when no plugin of the network declares the capability (NPWG v1.3), instead of sending ips/mac through args.cni and CNI_ARGS as Multus does and checking the result.'),
  parallel: z.boolean().default(false).describe('Run attachments concurrently (a departure from NPWG v1.3, which runs them in order).'),
  result: z.enum(['merged', 'cluster']).default('merged').describe('What the runtime gets: all attachments merged, or the cluster network only.'),
  delegateTimeout: z.number().positive().max(3600).default(60).describe('Seconds one delegate plugin may run.'),
  apiTimeout: z.number().positive().max(300).default(10).describe('Seconds one Kubernetes API request may take; slower answers fail the ADD with code 11 (try again later).'),
  daemonSocket: z.string().optional(),
  // list-level keys a runtime may leave in a single .conf
  cniVersions: z.array(z.string()).optional(),
  disableCheck: z.unknown().optional(),
  disableGC: z.unknown().optional(),
  auxiliaryCNIChainName: ignored,
  multusConfigFile: ignored,
  socketDir: ignored,
  logOptions: ignored,
  retryDeleteOnError: ignored,
  chrootDir: ignored,
  cniConfigDir: ignored,
  multusAutoconfigDir: ignored,
} satisfies z.ZodRawShape & Record<(typeof MULTUS_IGNORED_KEYS)[number], unknown>);

export type BraidConfig = z.output<typeof BraidConfigSchema>;

const KNOWN = Object.keys(BraidConfigSchema.shape);
const KNOWN_BY_LOWER = new Map(KNOWN.map((k) => [k.toLowerCase(), k]));

/**
 * Go's encoding/json matches keys case-insensitively, so Multus accepts "LogFile"; braid does the
 * same and says so. Other unknown keys (and `cni.dev/*` runtime keys, silently) are left out.
 */
function normaliseKeys(obj: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (KNOWN.includes(key)) out[key] = value;
    else if (key.startsWith('cni.dev/')) continue;
    else {
      const canonical = KNOWN_BY_LOWER.get(key.toLowerCase());
      if (canonical && !(canonical in obj)) {
        out[canonical] = value;
        warnings.push(`key ${JSON.stringify(key)} read as ${JSON.stringify(canonical)}`);
      } else warnings.push(`unknown key ${JSON.stringify(key)} ignored`);
    }
  }
  return out;
}

/** Parse and default braid's config. Unknown keys are warnings for the caller to log, not errors. */
export function parseBraidConfig(obj: unknown): { config: BraidConfig; warnings: string[] } {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new CniError(Code.InvalidConfig, 'braid configuration must be a JSON object');
  }
  const warnings: string[] = [];
  const input = normaliseKeys(obj as Record<string, unknown>, warnings);
  const parsed = BraidConfigSchema.safeParse(input);
  if (!parsed.success) throw issuesToError(parsed.error, input, 'braid configuration');
  const config = parsed.data;
  // Multus: "at least one delegate/clusterNetwork must be specified".
  if (config.clusterNetwork === undefined && !config.delegates?.length) {
    throw new CniError(Code.InvalidConfig, 'invalid braid configuration: set "clusterNetwork" or list the cluster network first in "delegates"');
  }
  if (config.clusterNetwork !== undefined && config.delegates?.length) {
    warnings.push('"delegates" ignored because "clusterNetwork" is set (as in Multus)');
  }
  if (config.logLevel !== undefined && config.logLevel !== '' && !(LOG_LEVELS as readonly string[]).includes(config.logLevel.toLowerCase())) {
    // Multus logs and carries on with an unknown level; so does braid.
    warnings.push(`logLevel ${JSON.stringify(config.logLevel)} is not one of ${LOG_LEVELS.join(', ')}; using the default`);
    delete config.logLevel;
  }
  return { config, warnings };
}
