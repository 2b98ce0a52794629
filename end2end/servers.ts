// Starting servers for the browser tests: the built portal on a free port with a fresh data
// directory (the suite's shared one is started by global-setup; some specs start their own
// behind a proxy), and Debian's nginx as a reverse proxy in front of portals.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const root = path.resolve(__dirname, "..");
export const binary = process.env.PORTAL_BINARY ?? path.join(root, "target", "debug", "client-portal");

export interface Portal {
  url: string;
  /** host:port the portal listens on, for a proxy's upstream. */
  address: string;
  dataDir: string;
  process: ChildProcess;
  stop(): void;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts the portal on its local board with `env` on top of the test defaults. */
export async function startPortal(env: Record<string, string> = {}): Promise<Portal> {
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`cargo leptos build\` first`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-e2e-"));
  const server = spawn(binary, ["serve"], {
    cwd: root,
    env: {
      ...process.env,
      LEPTOS_OUTPUT_NAME: "client_portal",
      LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_SITE_ADDR: "127.0.0.1:0",
      DATA_DIR: dataDir,
      LOCAL_BOARD_WEBHOOK_RETRY_SECONDS: "1",
      // Notification mails after two seconds instead of two minutes.
      NOTIFY_WINDOW_SECONDS: "2",
      RUST_LOG: process.env.RUST_LOG ?? "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = fs.createWriteStream(path.join(dataDir, "server.log"));
  server.stdout!.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`the portal did not start:\n${seen}`)), 60_000);
    // The server logs to standard error.
    let found = false;
    server.stderr!.on("data", (chunk: Buffer) => {
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
  return {
    url,
    address: url.replace("http://", ""),
    dataDir,
    process: server,
    stop() {
      server.kill("SIGTERM");
      keepLog(dataDir, `e2e-${path.basename(dataDir)}.log`);
    },
  };
}

/** Copies a portal's log into target/test-logs, where the suite scans it for tokens. */
export function keepLog(dataDir: string, name: string) {
  const logs = path.join(root, "target", "test-logs");
  fs.mkdirSync(logs, { recursive: true });
  const log = path.join(dataDir, "server.log");
  if (fs.existsSync(log)) fs.copyFileSync(log, path.join(logs, name));
}

export interface Proxy {
  url: string;
  stop(): void;
}

/**
 * Debian's nginx on `port`, forwarding to `upstreams` (round robin when several) the way the
 * README's production configuration does: Host kept, client appended to X-Forwarded-For,
 * WebSockets upgraded.
 */
export async function startNginx(port: number, upstreams: string[]): Promise<Proxy> {
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => fs.existsSync(p));
  if (!nginx) throw new Error("nginx is missing: ./scripts/test installs it (apt-get install nginx)");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nginx-e2e-"));
  const servers = upstreams.map((u) => `    server ${u};`).join("\n");
  fs.writeFileSync(
    path.join(dir, "nginx.conf"),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream portal {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://portal;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
    }
  }
}
`,
  );
  const child = spawn(nginx, ["-c", path.join(dir, "nginx.conf"), "-p", dir], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) {
      return {
        url: `http://127.0.0.1:${port}`,
        stop() {
          child.kill("SIGTERM");
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`);
}

export const localBoardBinary = process.env.MONDAY_LOCAL_BINARY ?? path.join(root, "target", "debug", "monday-local");

export interface LocalBoardProcess {
  /** The GraphQL endpoint, as MONDAY_API_URL. */
  url: string;
  token: string;
  board: string;
  /** The control API: faults, counters, and the team's actions (`POST /team`). */
  control: string;
  stop(): void;
}

/** Starts `monday-local` (seeded with the demo portals' tickets) as a shared board service. */
export async function startLocalBoard(): Promise<LocalBoardProcess> {
  if (!fs.existsSync(localBoardBinary)) {
    throw new Error(`${localBoardBinary} is missing: run \`cargo build -p monday-local\` first`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "monday-local-e2e-"));
  const child = spawn(localBoardBinary, ["--data", dir, "--seed", "demo", "--webhook-retry-seconds", "1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = fs.createWriteStream(path.join(dir, "board.log"));
  child.stderr!.pipe(log);
  const printed = await new Promise<Record<string, string>>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`monday-local did not start:\n${seen}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const values = Object.fromEntries(
        seen
          .split("\n")
          .map((line) => line.split("="))
          .filter((parts) => parts.length >= 2)
          .map(([key, ...rest]) => [key, rest.join("=")]),
      );
      if (values.url && values.token && values.board && values.control) {
        clearTimeout(timer);
        resolve(values);
      }
    });
    child.on("exit", (code) => reject(new Error(`monday-local exited with ${code}:\n${seen}`)));
  });
  return {
    url: printed.url,
    token: printed.token,
    board: printed.board,
    control: printed.control,
    stop() {
      child.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh database on the suite's throw-away PostgreSQL (`PORTAL_TEST_POSTGRES`, started by
 * ./scripts/test), made with Debian's `createdb`; `undefined` without one.
 */
export function freshPostgresDatabase(): string | undefined {
  const server = process.env.PORTAL_TEST_POSTGRES;
  if (!server) return undefined;
  const url = new URL(server);
  const versions = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(a) - Number(b));
  const createdb = path.join("/usr/lib/postgresql", versions[versions.length - 1], "bin", "createdb");
  const name = `e2e_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  execFileSync(createdb, ["-h", url.hostname, "-p", url.port, "-U", url.username || "postgres", name]);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs a `client-portal` command with `env` (and nothing of this process's but PATH). */
export function portalCommand(args: string[], env: Record<string, string>): string {
  return execFileSync(binary, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", RUST_LOG: "warn", ...env },
  }).toString();
}
