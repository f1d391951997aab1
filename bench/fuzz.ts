// The long fuzz run of every network decoder (issue 12 item 6; the harness and the
// fixed-seed unit test are in test/fuzz/): per decoder, the inputs, the seconds, and the
// outcomes by kind; exit status 1 if any input made a decoder throw or break its
// contract (the first few such inputs are printed in hex).
//
//   nice -n 10 npm run fuzz [-- inputs-per-decoder seed]     (defaults: 1000000 1)
import { TARGETS, formatReport, fuzz } from '../test/fuzz/decoders.ts';

const [inputs = 1_000_000, seed = 1] = process.argv.slice(2).map(Number);
let failed = 0;
const started = performance.now();
for (const target of TARGETS) {
  const report = fuzz(target, inputs, seed);
  failed += report.failureCount;
  console.log(formatReport(report));
}
console.log(`${TARGETS.length} decoders, ${inputs} inputs each (seed ${seed}), ${((performance.now() - started) / 1000).toFixed(0)} s in all: ${failed} failures`);
process.exitCode = failed === 0 ? 0 : 1;
