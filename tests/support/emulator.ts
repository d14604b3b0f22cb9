// The tests' way to the EC2 emulator: the launcher itself is shared harness code in
// scripts/harness/emulator.ts (the demo and the bench use it too); this re-exports it so the
// tests keep importing from tests/support.
export * from "../../scripts/harness/emulator";
