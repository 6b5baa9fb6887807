// zod, configured before any schema is built (zod reads `jitless` when a schema is made).
// A one-shot CNI call parses each schema a handful of times, so compiling zod's generated fast
// paths (new Function per object schema) costs more than it saves; the daemon keeps them.
// Import it as a namespace (`import * as z`): member accesses let the bundler drop what braid
// never uses (zod's 60-odd locales among it: ~370 KiB of the bundle).
import { config } from 'zod';

config({ jitless: process.env.CNI_COMMAND !== undefined });

export * from 'zod';
