//! NATS with TLS and one user per service with least-privilege permissions
//! (deploy/nats/auth.conf), on a real server.

use std::{path::Path, process::Command, time::Duration};

use flow_runtime::config::{NatsConfig, NatsSecurity, SecretString};
use flow_testkit::{NatsProcess, TestEnv, free_port};
use reqwest::StatusCode;

use crate::harness::System;

const PASSWORDS: [(&str, &str, &str); 3] = [
    (
        "command-api",
        "COMMAND_API_NATS_PASSWORD",
        "command-secret-7f3a",
    ),
    (
        "projector",
        "PROJECTOR_NATS_PASSWORD",
        "projector-secret-91bc",
    ),
    ("query-api", "QUERY_API_NATS_PASSWORD", "query-secret-2d44"),
];

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 and localhost.
fn certificates(dir: &Path) {
    std::fs::create_dir_all(dir).expect("dir");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=flow test ca",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("writes");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

struct SecureNats {
    _process: NatsProcess,
    url: String,
    ca: std::path::PathBuf,
}

fn secure_nats() -> SecureNats {
    let dir = std::env::temp_dir().join(format!("flow-tls-{}", uuid::Uuid::now_v7()));
    certificates(&dir);
    let auth = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../deploy/nats/auth.conf");
    let config = format!(
        "tls {{\n  cert_file: \"{dir}/server.crt\"\n  key_file: \"{dir}/server.key\"\n  timeout: 2\n}}\ninclude ./auth.conf\n",
        dir = dir.display(),
    );
    // Includes are relative to the including file: use the deployed file as it is.
    std::fs::copy(&auth, dir.join("auth.conf")).expect("deploy/nats/auth.conf exists");
    std::fs::write(dir.join("nats.conf"), config).expect("writes");
    let port = free_port();
    let conf = dir.join("nats.conf");
    // The server reads the passwords from its environment, as deployed.
    let env: Vec<(&str, &str)> = PASSWORDS
        .iter()
        .map(|(_, var, password)| (*var, *password))
        .collect();
    let process = NatsProcess::start_with_env(
        &dir.join("js"),
        port,
        &["-c", conf.to_str().expect("utf-8")],
        &env,
    );
    SecureNats {
        _process: process,
        url: format!("tls://127.0.0.1:{port}"),
        ca: dir.join("ca.crt"),
    }
}

fn service_nats(nats: &SecureNats, user: &str, password: &str) -> NatsConfig {
    let mut config = NatsConfig::local(nats.url.clone(), "FLOW", "flow");
    config.security = NatsSecurity {
        user: Some((user.to_owned(), SecretString::from(password.to_owned()))),
        creds_file: None,
        tls_ca: Some(nats.ca.clone()),
        tls_client: None,
        tls_required: true,
    };
    config
}

async fn connect(config: &NatsConfig) -> anyhow::Result<async_nats::Client> {
    flow_runtime::nats::connect(config, "test", Duration::from_millis(1500)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn plaintext_and_wrong_credentials_are_refused() {
    let nats = secure_nats();
    let mut plaintext = service_nats(&nats, "query-api", PASSWORDS[2].2);
    plaintext.url = plaintext.url.replace("tls://", "nats://");
    plaintext.security.tls_required = false;
    plaintext.security.tls_ca = None;
    assert!(
        connect(&plaintext).await.is_err(),
        "a plaintext connection is refused"
    );
    let wrong = service_nats(&nats, "query-api", "not-the-password");
    let err = connect(&wrong)
        .await
        .expect_err("wrong credentials are refused");
    assert!(
        !format!("{err:#}").contains("not-the-password"),
        "errors never name the secret"
    );
    assert!(
        connect(&service_nats(&nats, "query-api", PASSWORDS[2].2))
            .await
            .is_ok()
    );
}

/// Publishes or subscribes as `user` and reports whether the server refused it.
async fn refused(
    nats: &SecureNats,
    user: usize,
    action: impl AsyncFnOnce(&async_nats::Client),
) -> bool {
    let (name, _, password) = PASSWORDS[user];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut config = service_nats(nats, name, password);
    config.url = nats.url.clone();
    let client = async_nats::ConnectOptions::new()
        .user_and_password(name.into(), password.into())
        .add_root_certificates(nats.ca.clone())
        .require_tls(true)
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                if let async_nats::Event::ServerError(async_nats::ServerError::Other(e)) = event {
                    let _ = tx.send(e);
                }
            }
        })
        .connect(nats.url.as_str())
        .await
        .expect("connects");
    action(&client).await;
    let _ = client.flush().await;
    match tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
        Ok(Some(error)) => error.to_lowercase().contains("permissions violation"),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_users_cannot_act_outside_their_permissions() {
    let nats = secure_nats();
    const COMMAND: usize = 0;
    const PROJECTOR: usize = 1;
    const QUERY: usize = 2;
    assert!(
        refused(&nats, QUERY, async |c| {
            let _ = c.publish("flow.evt.project.x", "forged".into()).await;
        })
        .await
    );
    assert!(
        refused(&nats, QUERY, async |c| {
            let _ = c.subscribe("flow.evt.>").await;
        })
        .await
    );
    assert!(
        refused(&nats, PROJECTOR, async |c| {
            let _ = c.publish("flow.evt.project.x", "forged".into()).await;
        })
        .await
    );
    assert!(
        refused(&nats, COMMAND, async |c| {
            let _ = c
                .publish("$JS.API.CONSUMER.MSG.NEXT.FLOW.projector", "{}".into())
                .await;
        })
        .await
    );
    assert!(
        refused(&nats, COMMAND, async |c| {
            let _ = c.publish("$JS.API.STREAM.DELETE.FLOW", "".into()).await;
        })
        .await
    );
    assert!(
        refused(&nats, PROJECTOR, async |c| {
            let _ = c.publish("$JS.API.STREAM.PURGE.FLOW", "".into()).await;
        })
        .await
    );
    // And what they may do is not refused.
    assert!(
        !refused(&nats, QUERY, async |c| {
            let _ = c.subscribe("flow.projector.position").await;
        })
        .await
    );
    assert!(
        !refused(&nats, COMMAND, async |c| {
            let _ = c.publish("flow.evt.project.x", "ok".into()).await;
        })
        .await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_system_runs_over_tls_with_one_user_per_service() {
    let nats = secure_nats();
    let mut env = TestEnv::new();
    env.nats = service_nats(&nats, "command-api", PASSWORDS[0].2);
    let command = env.nats.clone();
    let query = service_nats(&nats, "query-api", PASSWORDS[2].2);
    let projector = service_nats(&nats, "projector", PASSWORDS[1].2);
    let mut system = System::with_service_nats(env, command, query).await;
    system
        .start_projector_with(|config| config.nats = projector)
        .await;
    let created = system.propose("alice", "secured").await;
    let listing = system.get_after("/projects", &created.token()).await;
    assert_eq!(listing.status, StatusCode::OK);
    assert_eq!(
        listing.body["items"].as_array().expect("items").len(),
        1,
        "{:?}",
        listing.body
    );
    let thread_id = {
        let project_id = created.body["project_id"].as_str().expect("id");
        let reply = system
            .post(
                &format!("/projects/{project_id}/threads"),
                "bob",
                serde_json::json!({"thread_type": "COMMENT", "message": "over tls"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["thread_id"].as_str().expect("id").to_owned()
    };
    let vote = system
        .put(
            &format!("/threads/{thread_id}/vote"),
            "carol",
            serde_json::json!({"direction": "up"}),
        )
        .await;
    assert_eq!(vote.status, StatusCode::OK);
    let shown = system
        .get_after(&format!("/threads/{thread_id}"), &vote.token())
        .await;
    assert_eq!(shown.body["up_vote"], 1);
    system.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_per_user_and_anonymous_reads_are_rate_limited_and_cors_follows_the_allow_list() {
    let http = flow_http::protect::HttpConfig {
        cors_origins: vec!["https://app.example".into()],
        request_timeout: Duration::from_secs(10),
        rate_per_second: 0.5,
        rate_burst: 2.0,
        max_in_flight: 512,
        ..Default::default()
    };
    let system = System::start_with_http(http).await;
    let body = |name: &str| serde_json::json!({"project_name": name, "tagline": "t", "problems": ["p"], "solutions": ["s"]});
    assert_eq!(
        system
            .post("/projects/propose", "alice", body("a1"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        system
            .post("/projects/propose", "alice", body("a2"))
            .await
            .status,
        StatusCode::CREATED
    );
    let limited = system.post("/projects/propose", "alice", body("a3")).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        limited.body
    );
    assert_eq!(
        limited.header("content-type"),
        Some("application/problem+json")
    );
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    // The scheme is case-insensitive for authentication, and so for the limit.
    for scheme in ["bearer", "BEARER"] {
        let request = system
            .http
            .post(format!("{}/projects/propose", system.command))
            .header(
                "Authorization",
                format!("{scheme} {}", system.token("alice")),
            )
            .json(&body("a4"));
        let reply = system.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{scheme}: the same user, the same limit: {:?}",
            reply.body
        );
    }
    assert_eq!(
        system
            .post("/projects/propose", "bob", body("b1"))
            .await
            .status,
        StatusCode::CREATED,
        "other users are not limited"
    );

    for _ in 0..2 {
        assert_eq!(system.get("/projects").await.status, StatusCode::OK);
    }
    let limited = system.get("/projects").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        system.get("/healthz").await.status,
        StatusCode::OK,
        "health checks are never limited"
    );

    let preflight = |origin: &'static str| {
        system
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/projects/propose", system.command),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
    };
    let allowed = system.send(preflight("https://app.example")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let refused = system.send(preflight("https://evil.example")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    // The app withdraws threads with DELETE.
    let withdraw = system
        .send(
            system
                .http
                .request(
                    reqwest::Method::OPTIONS,
                    format!("{}/threads/{}", system.command, uuid::Uuid::new_v4()),
                )
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "DELETE")
                .header("Access-Control-Request-Headers", "authorization"),
        )
        .await;
    assert!(
        withdraw
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("DELETE")),
        "{:?}",
        withdraw.header("access-control-allow-methods")
    );
    // A read from the app's origin: the app may see its validator.
    let read = system
        .send(
            system
                .http
                .get(format!("{}/projects", system.query))
                .header("Origin", "https://app.example"),
        )
        .await;
    assert!(
        read.header("access-control-expose-headers")
            .is_some_and(|h| h.to_ascii_lowercase().contains("etag")),
        "{:?}",
        read.header("access-control-expose-headers")
    );
    system.stop().await;
}
