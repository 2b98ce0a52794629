//! The deployment files agree with the portal: the compose file runs two instances on one
//! PostgreSQL behind nginx with what production requires, nginx balances both and believes
//! nobody else's `X-Forwarded-For`, and every variable the files set is one the portal reads.
//! (No container engine runs here: `scripts/lib/check-container.sh` checks the Containerfile's
//! paths against the release build instead.)

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every variable the portal reads, from `.env.example` (a unit test keeps that file complete).
fn known_variables() -> Vec<String> {
    repo_file(".env.example")
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim().to_owned()))
        .filter(|name| !name.starts_with('#') && !name.is_empty())
        .collect()
}

fn environment(service: &Yaml) -> Vec<(String, String)> {
    service["environment"]
        .as_hash()
        .into_iter()
        .flatten()
        .map(|(key, value)| {
            let value = match value {
                Yaml::String(text) => text.clone(),
                Yaml::Integer(n) => n.to_string(),
                other => panic!("an environment value that is not text: {other:?}"),
            };
            (key.as_str().unwrap_or_default().to_owned(), value)
        })
        .collect()
}

#[test]
fn the_compose_file_runs_two_instances_on_one_postgres_behind_nginx() {
    let docs = YamlLoader::load_from_str(&repo_file("deploy/compose.yaml"))
        .expect("deploy/compose.yaml parses");
    let compose = &docs[0];
    let services = &compose["services"];
    let known = known_variables();

    let portals: Vec<&str> = ["portal-a", "portal-b"]
        .into_iter()
        .filter(|name| !services[*name].is_badvalue())
        .collect();
    assert_eq!(portals.len(), 2, "two portal instances");
    let mut database_urls = Vec::new();
    for name in &portals {
        let service = &services[*name];
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("deploy/Containerfile"),
            "{name} is built from the Containerfile"
        );
        assert!(
            service["env_file"].as_str().is_some(),
            "{name} reads the production settings"
        );
        let env = environment(service);
        for (variable, _) in &env {
            assert!(
                known.contains(variable),
                "{name} sets {variable}, which the portal does not read"
            );
        }
        let database = env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .map(|(_, v)| v.clone())
            .expect("a DATABASE_URL");
        assert!(
            database.starts_with("postgres://") && database.contains("@postgres:5432/"),
            "{name} uses the postgres service: {database}"
        );
        database_urls.push(database);
        let trusted = env
            .iter()
            .find(|(k, _)| k == "TRUSTED_PROXIES")
            .map(|(_, v)| v.clone())
            .expect("TRUSTED_PROXIES");
        let nginx_address = services["nginx"]["networks"]["portal"]["ipv4_address"]
            .as_str()
            .expect("nginx has a fixed address");
        assert_eq!(trusted, nginx_address, "{name} believes only nginx");
        let health = format!("{:?}", service["healthcheck"]["test"]);
        assert!(health.contains("/healthz"), "{name}: {health}");
        assert!(
            !services["postgres"]["healthcheck"].is_badvalue(),
            "the database says when it is ready"
        );
        assert_eq!(
            service["depends_on"]["postgres"]["condition"].as_str(),
            Some("service_healthy"),
            "{name} waits for the database"
        );
    }
    assert_eq!(
        database_urls[0], database_urls[1],
        "both instances share one store"
    );
    assert_eq!(
        services["postgres"]["image"].as_str(),
        Some("postgres:15"),
        "the PostgreSQL the tests run against"
    );

    // nginx balances exactly those instances, with the settings the proxy tests use.
    let nginx = repo_file("deploy/nginx.conf");
    for name in &portals {
        assert!(
            nginx.contains(&format!("server {name}:3000;")),
            "nginx balances {name}"
        );
    }
    for setting in [
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_http_version 1.1;",
    ] {
        assert!(nginx.contains(setting), "nginx.conf: {setting}");
    }
    let mounted = format!("{:?}", services["nginx"]["volumes"]);
    assert!(mounted.contains("./nginx.conf"), "{mounted}");

    // What production needs is in the settings every instance reads.
    let production = repo_file("deploy/production.env.example");
    for required in [
        "PORTAL_ENV=production",
        "PORTAL_PUBLIC_URL=",
        "JWT_SECRET=",
        "MONDAY_API_TOKEN=",
        "MONDAY_BOARD_ID=",
        "MONDAY_WEBHOOK_SECRET=",
        "SMTP_URL=",
    ] {
        assert!(
            production.contains(required),
            "production.env.example: {required}"
        );
    }
    for line in production
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
    {
        let variable = line.split('=').next().unwrap_or_default();
        assert!(
            known.contains(&variable.to_owned()),
            "{variable} is not read by the portal"
        );
    }
}

#[test]
fn the_container_and_the_unit_run_the_release_layout() {
    let containerfile = repo_file("deploy/Containerfile");
    for needed in [
        "cargo install --locked cargo-leptos --version 0.3.10",
        "LEPTOS_HASH_FILES=true cargo leptos build --release --precompress",
        "COPY --from=build /app/target/release/hash.txt /app/hash.txt",
        "LEPTOS_HASH_FILES=true \\",
        "USER portal",
        "HEALTHCHECK",
        "PORTAL_ENV=production",
    ] {
        assert!(containerfile.contains(needed), "Containerfile: {needed}");
    }
    let unit = repo_file("deploy/client-portal.service");
    for needed in [
        "User=portal",
        "ExecStart=/opt/client-portal/client-portal serve",
        "EnvironmentFile=/etc/client-portal/production.env",
        "NoNewPrivileges=yes",
        "Environment=LEPTOS_HASH_FILES=true",
        "ProtectSystem=strict",
    ] {
        assert!(unit.contains(needed), "client-portal.service: {needed}");
    }
    let known = known_variables();
    for line in unit.lines().filter_map(|l| l.strip_prefix("Environment=")) {
        let variable = line.split('=').next().unwrap_or_default();
        assert!(
            known.contains(&variable.to_owned()),
            "the unit sets {variable}"
        );
    }
}
