// Global setup for the e2e suite: one 3-node lab (pg1..pg3) for all test files.
// `lab.sh up` first cleans up whatever an earlier (maybe killed) run left behind;
// the teardown is idempotent (`lab.sh down` on a lab that is down is a no-op).
import { labSh } from "./lab-helpers.js";

export default function setup(): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the e2e suite needs root: its lab creates network namespaces, bridges and a loop device " +
        "(run it as root on a Debian 12 machine; see test/lab/lab.sh)",
    );
  }
  labSh(["up", "--nodes", "3"], { inherit: true });
  return () => {
    labSh(["down"], { inherit: true });
  };
}
