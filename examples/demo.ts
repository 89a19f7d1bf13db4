/**
 * The stratafs walk-through: one namespace over an in-memory store at `/` and a local
 * directory at `/local`, on the embedded cache defaults (memory tier).
 *
 *   npm run demo
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataFS } from '../src/index.js';

const say = (text: string): void => console.log(text);
const dir = await mkdtemp(join(tmpdir(), 'stratafs-demo-'));
const fs = new StrataFS();
try {
  await fs.mount('/', 'memory://');
  await fs.mount('/local', `file://${dir}`);
  say(`mounted memory:// at / and a temp directory at /local`);
  for (const m of fs.mounts()) say(`  ${m.path.padEnd(8)} -> ${m.uri}`);

  say('\nwriting a small data set');
  for (let day = 1; day <= 3; day++) {
    const rows = Array.from({ length: 1000 }, (_, i) => `2024-01-0${day},sensor-${i % 10},${(Math.sin(i + day) * 100).toFixed(2)}`).join('\n');
    const info = await fs.writeFile(`/local/readings/day-${day}.csv`, rows);
    say(`  wrote ${info.path} (${info.size} bytes)`);
  }
  await fs.writeFile('/reports/summary.json', JSON.stringify({ days: 3, sensors: 10 }));
  say('  wrote /reports/summary.json');

  say('\nlisting the namespace');
  for (const entry of await fs.readdir('/', { recursive: true, withInfo: true })) {
    say(`  ${entry.type === 'directory' ? 'd' : '-'} ${String(entry.size).padStart(6)}  ${entry.path}`);
  }

  say('\nreading it back');
  const first = await fs.readFile('/local/readings/day-1.csv', { offset: 0, length: 40 });
  say(`  first 40 bytes of day-1.csv: ${JSON.stringify(first.toString())}`);
  await fs.free('/local/readings/day-2.csv'); // drop what the write cached, to show a cold read
  const before = fs.stats();
  const whole = await fs.readFile('/local/readings/day-2.csv');
  const again = await fs.readFile('/local/readings/day-2.csv');
  const after = fs.stats();
  say(`  day-2.csv twice (cold, then warm): ${whole.length} bytes each, identical: ${whole.equals(again)}`);
  say(`  cache: ${after.hits - before.hits} page hits, ${after.misses - before.misses} misses, ${after.bytesFromStore - before.bytesFromStore} bytes from the store`);

  say('\ncopying across mounts and renaming');
  await fs.copy('/local/readings', '/archive/readings', { recursive: true });
  await fs.rename('/archive/readings/day-3.csv', '/archive/readings/latest.csv');
  say(`  /archive/readings: ${(await fs.readdir('/archive/readings')).join(', ')}`);
  try {
    await fs.rename('/archive/readings/latest.csv', '/local/latest.csv');
  } catch (error) {
    say(`  a rename across mounts is refused: ${(error as Error).message}`);
  }

  const stats = fs.stats();
  say(`\nstats: ${stats.hits} hits, ${stats.misses} misses, ${stats.bytesFromCache} bytes from cache, ${stats.bytesToStore} bytes written to stores`);
  say(`memory tier: ${stats.memory.pages} pages, ${stats.memory.used} of ${stats.memory.capacity} bytes`);
} finally {
  await fs.close();
  await rm(dir, { recursive: true, force: true });
}
