// Standalone fake kube-apiserver:
//   main --port N --token T --state FILE.json --kubeconfig OUT [--plain-http]
// Prints {"url":...,"port":...,"ca":PEM} on one stdout line once listening; SIGTERM/SIGINT exit 0.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startFakeApiServer } from './server.js';
import type { FakeState } from './server.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      state: { type: 'string' },
      kubeconfig: { type: 'string' },
      'plain-http': { type: 'boolean' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);

  const server = await startFakeApiServer({ port, token: values.token, tls: !values['plain-http'] });
  if (values.state) server.loadState(JSON.parse(readFileSync(values.state, 'utf8')) as FakeState);
  if (values.kubeconfig) server.writeKubeconfig(values.kubeconfig);

  const shutdown = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(JSON.stringify({ url: server.url, port: server.port, ca: server.ca }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-k8s-api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
