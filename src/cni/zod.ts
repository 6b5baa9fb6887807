// zod, configured before any schema is built (zod reads `jitless` when a schema is made).
// A one-shot CNI call parses each schema a handful of times, so compiling zod's generated fast
// paths (new Function per object schema) costs more than it saves; the daemon keeps them.
import { z } from 'zod';

z.config({ jitless: process.env.CNI_COMMAND !== undefined });

export { z };
