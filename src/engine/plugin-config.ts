// Per-request plugin config (libcni buildOneConfig + injectRuntimeConfig): inject name and
// cniVersion, prevResult, and runtimeConfig holding only the capabilities the plugin declares.
export function buildPluginConfig(
  plugin: Record<string, unknown>,
  name: string,
  cniVersion: string,
  capabilityArgs: Record<string, unknown> | undefined,
  prevResult?: unknown,
): Record<string, unknown> {
  const { capabilities, ...rest } = plugin;
  const out: Record<string, unknown> = { ...rest, name, cniVersion };
  if (prevResult !== undefined) out.prevResult = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  if (capabilities && typeof capabilities === 'object') {
    for (const [cap, enabled] of Object.entries(capabilities as Record<string, unknown>)) {
      if (enabled === true && capabilityArgs && Object.hasOwn(capabilityArgs, cap)) runtimeConfig[cap] = capabilityArgs[cap];
    }
  }
  if (Object.keys(runtimeConfig).length > 0) out.runtimeConfig = runtimeConfig;
  return out;
}

/** Short name for messages: "bridge" or "bridge (ipam host-local)". */
export function describePlugin(plugin: Record<string, unknown>): string {
  const ipam = plugin.ipam as { type?: unknown } | undefined;
  return typeof ipam?.type === 'string' ? `${String(plugin.type)} (ipam ${ipam.type})` : String(plugin.type);
}
