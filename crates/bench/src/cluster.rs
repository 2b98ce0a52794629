//! Two portal instances on one PostgreSQL, behind Debian's nginx, against one `monday-local`:
//! what a second instance costs and buys. Rows: monday calls per change with both instances
//! taking webhooks (it must equal one instance's), dashboard loads through nginx with one and
//! with two instances, and webhook-to-socket latency for sockets on the other instance than the
//! one the webhook reached.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::{
    Member, PortalEnv, answered, calls, free_port, invite, load, ms, per_webhook, percentile,
    portal_command, serve, sign_in, start_board, tickets_of, webhook_to_socket,
};

/// Debian's nginx in front of `upstreams` (round robin), configured as `deploy/nginx.conf`
/// forwards: Host kept, WebSockets upgraded. Stopped when dropped.
struct Nginx {
    url: String,
    child: tokio::process::Child,
    dir: PathBuf,
}

impl Nginx {
    async fn start(upstreams: &[&str]) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("nginx is missing: ./scripts/bench installs it");
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("bench-nginx-{port}"));
        std::fs::create_dir_all(&dir).expect("a directory for nginx");
        let prefix = dir.display();
        let servers: String = upstreams
            .iter()
            .map(|address| format!("    server {address};\n"))
            .collect();
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n\
             error_log {prefix}/error.log warn;\nevents {{ worker_connections 8192; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n\
             proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n\
             uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
             map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
             upstream portal {{\n{servers}    keepalive 64;\n  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
             proxy_pass http://portal;\n      proxy_http_version 1.1;\n\
             proxy_set_header Host $http_host;\n\
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_set_header Upgrade $http_upgrade;\n\
             proxy_set_header Connection $connection_upgrade;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("nginx.conf");
        let child = tokio::process::Command::new(binary)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Nginx {
            url: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database of its own on the PostgreSQL server at `server`.
async fn fresh_database(server: &str) -> String {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("the benchmark's PostgreSQL answers");
    let name = format!("bench_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("a database for the benchmark");
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    format!("{base}/{name}")
}

pub struct Settings {
    pub portals: usize,
    pub tickets: usize,
    pub clients: usize,
    pub seconds: u64,
    pub sockets: usize,
    pub webhooks: usize,
    /// One instance's monday calls per webhook, from the main run, to compare with.
    pub single_instance_calls_per_change: f64,
}

/// Dashboard loads through `url`, one member's cookie per request in turn.
async fn dashboards(
    client: &reqwest::Client,
    url: &str,
    members: &Arc<Vec<Member>>,
    settings: &Settings,
) -> String {
    let (client, url, members) = (client.clone(), url.to_owned(), members.clone());
    let stats = load(settings.clients, settings.seconds, move |worker, n| {
        let member = &members[(worker + n as usize) % members.len()];
        let request = client
            .get(format!("{url}/dashboard"))
            .header("cookie", member.cookie.clone());
        async move { answered(request.send().await, 200).await }
    })
    .await;
    stats.summary()
}

pub async fn run(binaries: &Path, postgres: &str, settings: &Settings) -> Vec<(String, String)> {
    let binary = binaries.join("client-portal");
    let data_dir =
        std::env::temp_dir().join(format!("portal-bench-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).expect("a data directory");
    let (_board, printed) = start_board(
        &binaries.join("monday-local"),
        &data_dir,
        settings.portals,
        settings.tickets,
    )
    .await;
    let database = fresh_database(postgres).await;
    let listen: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let both = Nginx::start(&[&listen[0], &listen[1]]).await;
    let one = Nginx::start(&[&listen[0]]).await;
    let env = |n: usize| PortalEnv {
        data_dir: data_dir.join(format!("instance-{n}")),
        public_url: both.url.clone(),
        listen: Some(listen[n].clone()),
        database_url: Some(database.clone()),
        board_url: printed["url"].clone(),
        board_token: printed["token"].clone(),
        board_id: printed["board"].clone(),
    };
    let envs = [env(0), env(1)];
    for env in &envs {
        std::fs::create_dir_all(&env.data_dir).expect("an instance's data directory");
    }
    let mut entries = Vec::new();
    for portal in (0..settings.portals).map(monday_local::bench_portal_id) {
        let session_token = invite(&binary, &envs[0], &portal).await;
        let api_token = invite(&binary, &envs[0], &portal).await;
        entries.push(json!({
            "portal": portal, "session_token": session_token, "api_token": api_token,
        }));
    }
    let (_a, _) = serve(&binary, &envs[0]).await;
    let (_b, _) = serve(&binary, &envs[1]).await;
    // monday's webhooks go to the public URL: nginx gives each to either instance.
    portal_command(&binary, &envs[0], &["setup-board"]).await;

    let client = crate::http_client(settings.clients);
    let mut members = Vec::new();
    for entry in &entries {
        members.push(sign_in(&client, &both.url, entry).await);
    }
    let members = Arc::new(members);
    let instances: Vec<String> = listen.iter().map(|a| format!("http://{a}")).collect();
    // Both instances' caches warm, as when clients on either have their dashboards open.
    for instance in &instances {
        for member in members.iter() {
            let _ = client
                .get(format!("{instance}/dashboard"))
                .header("cookie", &member.cookie)
                .send()
                .await;
        }
    }
    let control = calls::Control {
        url: printed["control"].clone(),
        token: printed["token"].clone(),
        http: client.clone(),
    };
    control
        .set_limits(json!({
            "daily_calls": 25_000, "minute_calls": 5_000, "concurrency": 250,
        }))
        .await;
    let mut rows = Vec::new();

    eprintln!("two instances: monday calls per change…");
    let tickets: Vec<(String, String)> = tickets_of(&client, &both.url, &members)
        .await
        .into_iter()
        .flatten()
        .collect();
    // As on the single instance, measured after the team has been at work a while: the first
    // reply of each team member costs one read for the name, on one instance or two.
    let mut dice = calls::Dice::new(7);
    for n in 0..4 {
        calls::change(&control, calls::Change::Reply, n, &tickets, &mut dice).await;
    }
    control.settled().await;
    let (per_change, per_webhook_rows) = per_webhook(&client, &instances, &control, &tickets).await;
    rows.extend(per_webhook_rows.into_iter().map(|(name, value)| {
        (
            name,
            format!(
                "{value}; one instance: {:.3} ({})",
                settings.single_instance_calls_per_change,
                if per_change <= settings.single_instance_calls_per_change + 0.001 {
                    "no more with two"
                } else {
                    "MORE with two"
                }
            ),
        )
    }));

    eprintln!("dashboards through nginx, one instance then two…");
    rows.push((
        format!(
            "Dashboard page through nginx, one instance (PostgreSQL), {} clients",
            settings.clients
        ),
        dashboards(&client, &one.url, &members, settings).await,
    ));
    rows.push((
        format!(
            "Dashboard page through nginx, two instances (PostgreSQL), {} clients",
            settings.clients
        ),
        dashboards(&client, &both.url, &members, settings).await,
    ));

    eprintln!("two instances: webhook-to-socket latency…");
    let latency = webhook_to_socket(
        &client,
        &members,
        &instances,
        &instances[0],
        settings.sockets,
        settings.webhooks,
    )
    .await;
    rows.push((
        format!(
            "Webhook to socket across instances: webhook at A, {} sockets on A and B",
            latency.connected
        ),
        format!(
            "sockets on B: p50 {}, p99 {} over {} deliveries; all: p50 {}, p99 {}; {} missed (target p99 < 50 ms)",
            ms(percentile(&latency.elsewhere, 0.5)),
            ms(percentile(&latency.elsewhere, 0.99)),
            latency.elsewhere.len(),
            ms(percentile(&latency.all, 0.5)),
            ms(percentile(&latency.all, 0.99)),
            latency.missed
        ),
    ));
    drop(one);
    drop(both);
    let _ = std::fs::remove_dir_all(&data_dir);
    rows
}
