// Runs the Cloud Storage emulator of firebase-tools 15.34.2 in this process, without Java and
// without the network, on 127.0.0.1:PORT (argv[2]) for project argv[3]. Started by
// test/support/gcs-emulator.ts, which sets HOME and TMPDIR to a temp dir first (the emulator
// keeps its blobs under TMPDIR and deletes them on stop; firebase-tools keeps config under HOME).
//
// It relies on the emulator's internals at that exact version: the StorageEmulator class and
// its private `_rulesRuntime` / `_rulesManager` fields, whose start/stop would download and run
// the Java rules runtime. The admin JSON-API routes the SDK uses never consult rules, so both
// are replaced with no-ops. Prints `READY <port>` once it listens; stops on SIGTERM or when
// its stdin (held open by the parent) closes.
'use strict';
const { StorageEmulator } = require('firebase-tools/lib/emulator/storage');
const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry');

const port = Number(process.argv[2]);
const projectId = process.argv[3] || 'demo-stratafs';

async function main() {
  const emulator = new StorageEmulator({
    projectId,
    host: '127.0.0.1',
    port,
    rules: { name: 'storage.rules', content: '' },
    auto_download: false,
  });
  const noop = async () => {};
  for (const part of [emulator._rulesRuntime, emulator._rulesManager]) {
    part.start = noop;
    part.stop = noop;
  }
  await EmulatorRegistry.start(emulator);
  process.stdout.write(`READY ${port}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    EmulatorRegistry.stop('storage').finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // The parent holds our stdin open: when it dies without stopping us, stop too.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`gcs emulator failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
