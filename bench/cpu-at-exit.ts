/**
 * Preloaded into the npcforge child of `bench ppo-vs-torch` (`node --import`): at exit, writes the
 * process's CPU seconds (user + system, all threads) to the file named by NPCFORGE_BENCH_CPU_FILE.
 * CPU time moves much less with the load of other processes than wall time does.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.NPCFORGE_BENCH_CPU_FILE;
if (file !== undefined && file !== '') {
  process.on('exit', () => {
    const c = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ cpuS: (c.user + c.system) / 1e6 }));
  });
}
