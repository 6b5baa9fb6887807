// Identifier rules from SPEC.md section "Configuration format" and the skel's validators.
import { CniError, Code } from './errors.js';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;
export const MAX_IFNAME = 15;

/** Network name / container ID rule; also keeps names safe as single path segments. */
export function validateName(value: unknown, field: string, code: number = Code.InvalidConfig): string {
  if (typeof value !== 'string' || value === '') throw new CniError(code, `${field} is required`);
  if (value.length > 253 || !NAME_RE.test(value)) {
    throw new CniError(
      code,
      `${field} ${JSON.stringify(value.slice(0, 300))} is invalid: must start with a letter or digit and contain only letters, digits, '_', '.' and '-'`,
    );
  }
  return value;
}

export const validateNetworkName = (v: unknown, field = 'name') => validateName(v, field, Code.InvalidConfig);
export const validateContainerId = (v: unknown) => validateName(v, 'CNI_CONTAINERID', Code.InvalidEnv);

/** Linux interface name rule (dev_valid_name); spec code for a bad CNI_IFNAME is 4 (invalid env). */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_IFNAME) return `exceeds ${MAX_IFNAME} characters`;
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[/:\s]/.test(name) || name.includes('\0')) return "contains '/', ':', NUL or whitespace";
  return undefined;
}

export function validateInterfaceName(name: unknown, field = 'CNI_IFNAME', code: number = Code.InvalidEnv): string {
  if (typeof name !== 'string') throw new CniError(code, `${field} is required`);
  const problem = interfaceNameProblem(name);
  if (problem) throw new CniError(code, `interface name ${JSON.stringify(name)} ${problem} (${field})`);
  return name;
}

/** A plugin type is a bare file name: no separators, no traversal (the CNI spec). */
export function validatePluginType(type: unknown, field = 'type'): string {
  if (typeof type !== 'string' || type === '') throw new CniError(Code.InvalidConfig, `${field} is required`);
  if (type.includes('/') || type.includes('\\') || type === '.' || type === '..' || type.includes('\0')) {
    throw new CniError(Code.InvalidConfig, `${field} ${JSON.stringify(type)} must be a plain binary name without path separators`);
  }
  return type;
}
