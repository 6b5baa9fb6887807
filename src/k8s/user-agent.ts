// The User-Agent of every request braid makes to the Kubernetes API, in client-go's form
// (binary/version (os/arch)), so an API server's audit log and rate limits can tell braid apart.
declare const BRAID_VERSION: string;
const VERSION = typeof BRAID_VERSION === 'string' ? BRAID_VERSION : '0.0.0-dev';

export const USER_AGENT = `braid/${VERSION} (${process.platform}/${process.arch})`;
