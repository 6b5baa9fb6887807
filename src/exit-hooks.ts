// Work to finish before braid exits (one-shot calls end with process.exit). A tiny module so
// main can run the hooks without loading what registers them.
const hooks: Array<() => Promise<void>> = [];

export function beforeExit(hook: () => Promise<void>): void {
  hooks.push(hook);
}

export async function runExitHooks(): Promise<void> {
  await Promise.all(hooks.splice(0).map((h) => h().catch(() => undefined)));
}
