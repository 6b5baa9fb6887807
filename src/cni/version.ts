// Spec versions braid speaks and the semver ordering libcni uses to pick among them.
import { CniError, Code } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type SpecVersion = (typeof SUPPORTED_VERSIONS)[number];
export const CURRENT_VERSION: SpecVersion = '1.1.0';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseSemver(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const pa = parseSemver(a);
  const pb = parseSemver(b);
  if (!pa || !pb) throw new CniError(Code.IncompatibleVersion, `invalid version "${pa ? b : a}"`);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

export const isSupported = (v: string): v is SpecVersion => (SUPPORTED_VERSIONS as readonly string[]).includes(v);
export const versionAtLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

/** cniVersion plus cniVersions (1.1.0): the highest one braid supports; libcni's rule. */
export function pickVersion(cniVersion: string | undefined, cniVersions: readonly string[] | undefined): SpecVersion {
  const candidates = [...(cniVersions ?? []), ...(cniVersion ? [cniVersion] : [])].filter(isSupported);
  if (candidates.length === 0) {
    const asked = [...(cniVersions ?? []), cniVersion ?? ''].filter(Boolean).join(', ') || '(none)';
    throw new CniError(
      Code.IncompatibleVersion,
      `cniVersion ${asked} is not supported; braid supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  return candidates.sort(compareVersions).at(-1)!;
}

export const versionInfo = (cniVersion: string = CURRENT_VERSION) => ({
  cniVersion,
  supportedVersions: [...SUPPORTED_VERSIONS],
});
