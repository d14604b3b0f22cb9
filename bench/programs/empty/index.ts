// Benchmark baseline (bench/bench.ts): no resources. A `pulumi preview`/`up` of this program
// is what the engine, the language host and the program's start-up cost with nothing to do.
export const empty = true;
