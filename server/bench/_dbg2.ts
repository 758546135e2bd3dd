import { judgeJobInfra } from '../src/analysis/infra.js';
import { reportResults, resultFingerprint } from '../src/sim/adapter.js';
import { simulate } from '../src/sim/simulator.js';
const seed = Number(process.argv[2]);
const sha = process.argv[3]!;
const sim = simulate({ seed });
for (const u of sim.uploads()) {
  if (!u.metadata.commitSha!.startsWith(sha)) continue;
  const results = reportResults(u.report);
  const f = results.map(resultFingerprint);
  const j = judgeJobInfra(results.map((r, i) => ({ outcome: r.outcome, errorFingerprint: f[i] })));
  const o = sim.truth.outages.find((x) => x.jobId === u.metadata.jobId);
  console.log(u.metadata.jobName, u.metadata.jobId, j.infra, j.reason, o?.kind ?? '-', o?.victims.length ?? 0);
  if (j.infra) results.forEach((r, i) => { if (f[i] === j.topFingerprint) console.log('   ', r.file, r.titlePath.join(' > '), r.projectName, r.outcome, r.error?.message.split('\n')[0]); });
}
