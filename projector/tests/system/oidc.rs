//! Tokens of an OpenID Connect provider (a test provider on a local port):
//! command-api and query-api accept the same RS256 token.

use flow_http::auth::testing::{TestKey, TestProvider};
use flow_runtime::config::{AuthConfig, OidcConfig};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::System;

#[tokio::test(flavor = "multi_thread")]
async fn both_apis_accept_an_rs256_token_of_the_provider() {
    let key = TestKey::rsa("provider-key-1");
    let provider = TestProvider::start(&[&key]).await;
    let system = System::start_with_auth(AuthConfig {
        hs256: None,
        oidc: Some(OidcConfig::new(provider.issuer(), "projects-flow")),
    })
    .await;
    let token = key.sign(&provider.claims("projects-flow", "oidc-alice"));

    let proposed = system
        .send(
            system
                .http
                .post(format!("{}/projects/propose", system.command))
                .bearer_auth(&token)
                .json(&json!({
                    "project_name": "Provider tokens",
                    "tagline": "signed by the identity provider",
                    "problems": ["a problem"],
                    "solutions": ["a solution"],
                    "tags": ["test"],
                })),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{:?}", proposed.body);

    let mine = system
        .send(
            system
                .http
                .get(format!("{}/me/projects", system.query))
                .bearer_auth(&token)
                .header("Consistency-Token", proposed.token()),
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    let items = mine.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{:?}", mine.body);
    assert_eq!(items[0]["project_id"], proposed.body["project_id"]);

    // HS256 is off when only the provider is configured.
    let hs256 = system
        .send(
            system
                .http
                .get(format!("{}/me/projects", system.query))
                .bearer_auth(system.token("oidc-alice")),
        )
        .await;
    assert_eq!(hs256.status, StatusCode::UNAUTHORIZED);
    assert!(provider.jwks_requests() >= 1);
    system.stop().await;
}
