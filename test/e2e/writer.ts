// A client that writes through vip-master once a second on a lab host while pgha changes the cluster
// (issue 17's acceptance: no write may fail). Needs the app role and the e2e table (createAppTable).
import { spawn } from "node:child_process";
import { LAB_SH } from "./lab-helpers.js";
import { onHost, until } from "./pgha-helpers.js";

/** One INSERT a second, each result a line in /tmp/writer.log, until /tmp/writer.stop exists. */
const WRITER = [
  "rm -f /tmp/writer.stop /tmp/writer.log /tmp/writer.err; n=0",
  "while [ ! -e /tmp/writer.stop ]; do n=$((n+1))",
  "if PGPASSWORD=app-pw PGCONNECT_TIMEOUT=5 psql -X -q -h 10.117.1.100 -U app -d postgres -c \"INSERT INTO e2e VALUES ('w$n')\" >/dev/null 2>>/tmp/writer.err; then echo \"ok $n\"; else echo \"FAIL $n $(date +%T)\"; fi >> /tmp/writer.log",
  "sleep 1; done",
].join("\n");

export interface WriterLog {
  lines: string[];
  failed: string[];
  /** psql's errors, to show with a failed write. */
  errors: string;
}

/** Runs `act` with the writer going on `host` (from its first good write to 3 s after `act`), and returns its log. */
export async function whileWriting(host: string, act: () => Promise<void>): Promise<WriterLog> {
  const writer = spawn("bash", [LAB_SH, "exec", host, "sh", "-c", WRITER], { stdio: "ignore" });
  const done = new Promise((r) => writer.on("close", r));
  try {
    await until("the writer's first row", () => /^ok /m.test(onHost(host, "cat /tmp/writer.log 2>/dev/null || true")), 30_000, 1000);
    await act();
    await new Promise((res) => setTimeout(res, 3000));
  } finally {
    onHost(host, "touch /tmp/writer.stop");
    await done;
  }
  const lines = onHost(host, "cat /tmp/writer.log").trim().split("\n");
  return { lines, failed: lines.filter((l) => !l.startsWith("ok ")), errors: onHost(host, "cat /tmp/writer.err 2>/dev/null || true") };
}
