import * as fs from "node:fs";
import * as path from "node:path";
import { root, stateFile } from "./global-setup";

export default async function globalTeardown() {
  if (!fs.existsSync(stateFile)) return;
  const { pid, dataDir } = JSON.parse(fs.readFileSync(stateFile, "utf8"));
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // already gone
  }
  fs.rmSync(stateFile);
  // The server's log joins the integration tests' for the suite's token scan.
  const logs = path.join(root, "target", "test-logs");
  fs.mkdirSync(logs, { recursive: true });
  const log = path.join(dataDir, "server.log");
  if (fs.existsSync(log)) fs.copyFileSync(log, path.join(logs, "e2e-server.log"));
  if (!process.env.KEEP_E2E_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
}
