import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const root = path.resolve(__dirname, "..");
export const stateFile = path.join(__dirname, ".data", "server.json");

/** Starts the built portal on a free port with a fresh data directory. */
export default async function globalSetup() {
  const binary = process.env.PORTAL_BINARY ?? path.join(root, "target", "debug", "client-portal");
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`cargo leptos build\` first`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-e2e-"));
  const env = {
    ...process.env,
    LEPTOS_OUTPUT_NAME: "client_portal",
    LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
    LEPTOS_SITE_PKG_DIR: "pkg",
    LEPTOS_SITE_ADDR: "127.0.0.1:0",
    DATA_DIR: dataDir,
    LOCAL_BOARD_WEBHOOK_RETRY_SECONDS: "1",
    RUST_LOG: process.env.RUST_LOG ?? "info",
  };
  const server = spawn(binary, ["serve"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const log = fs.createWriteStream(path.join(dataDir, "server.log"));
  server.stdout.pipe(log);

  const url = await new Promise<string>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`the portal did not start:\n${seen}`)), 60_000);
    // The server logs to standard error.
    let found = false;
    server.stderr.on("data", (chunk: Buffer) => {
      log.write(chunk);
      if (found) return;
      seen += chunk.toString();
      const match = seen.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`the portal exited with ${code}:\n${seen}`)));
  });

  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(stateFile, JSON.stringify({ pid: server.pid, url, dataDir, binary }));
  process.env.PORTAL_URL = url;
  process.env.PORTAL_DATA_DIR = dataDir;
  process.env.PORTAL_BINARY = binary;
}
