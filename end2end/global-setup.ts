import * as fs from "node:fs";
import * as path from "node:path";
import { binary, startPortal } from "./servers";

export { root } from "./servers";
export const stateFile = path.join(__dirname, ".data", "server.json");

/** Starts the built portal on a free port with a fresh data directory. */
export default async function globalSetup() {
  const portal = await startPortal();
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(
    stateFile,
    JSON.stringify({ pid: portal.process.pid, url: portal.url, dataDir: portal.dataDir, binary }),
  );
  process.env.PORTAL_URL = portal.url;
  process.env.PORTAL_DATA_DIR = portal.dataDir;
  process.env.PORTAL_BINARY = binary;
}
