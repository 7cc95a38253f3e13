// A webhook receiver to try the platform's accounting events with:
//   WEBHOOK_SECRET=whsec_... node dist/bin/webhook-receiver.js [port]
// It verifies each delivery's signature and prints each event once. WEBHOOK_SECRET may list several
// secrets separated by commas (while a rotation overlaps).
import http from 'node:http';
import { createExampleReceiver } from '../webhooks/example-receiver';

function main(): void {
  const secrets = (process.env.WEBHOOK_SECRET ?? '').split(',').filter((s) => s.trim() !== '');
  if (secrets.length === 0) {
    console.error('Set WEBHOOK_SECRET to the secret the API answered when the endpoint was registered.');
    process.exit(2);
  }
  const port = Number(process.argv[2] ?? process.env.PORT ?? 4242);
  const server = http.createServer(createExampleReceiver({ secrets, log: (line) => console.log(line) }));
  server.listen(port, '127.0.0.1', () => console.log(`webhook receiver on http://127.0.0.1:${port}/`));
}

main();
