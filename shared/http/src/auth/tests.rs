use std::time::Duration;

use flow_runtime::config::{AuthConfig, OidcConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::json;

use super::testing::{TestKey, TestProvider, now};
use super::*;

fn jwt(secret: &str) -> Jwt {
    Jwt::new(&SecretString::from(secret.to_owned()))
}

#[test]
fn a_minted_token_verifies_with_its_roles() {
    let keys = jwt("0123456789abcdef0123");
    let actor = keys
        .verify(&keys.mint("alice", &["moderator"], 60))
        .expect("valid");
    assert_eq!(actor.user_id.as_str(), "alice");
    assert!(actor.is_moderator());
}

#[test]
fn the_bearer_scheme_matches_in_any_case() {
    let token = |v: &'static str| bearer_token(&HeaderValue::from_static(v)).map(str::to_owned);
    assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
    assert_eq!(token("bearer abc").as_deref(), Some("abc"));
    assert_eq!(token("BEARER  abc ").as_deref(), Some("abc"));
    assert_eq!(token("Basic abc"), None);
    assert_eq!(token("Bearer "), None);
    assert_eq!(token("Bearerabc"), None);
}

#[test]
fn bad_tokens_are_refused() {
    let keys = jwt("0123456789abcdef0123");
    let other = jwt("another-secret-of-some-length");
    assert_eq!(
        keys.verify(&other.mint("alice", &[], 60)),
        Err("the token's signature is invalid")
    );
    assert_eq!(keys.verify("not.a.token"), Err("the token is malformed"));
    let expired = {
        let claims = Claims {
            sub: "alice".into(),
            exp: 1_000,
            name: None,
            roles: vec![],
        };
        encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).expect("encodes")
    };
    assert_eq!(keys.verify(&expired), Err("the token has expired"));
    let no_sub = encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"exp": u64::MAX / 2}),
        &keys.encoding,
    )
    .expect("encodes");
    assert_eq!(
        keys.verify(&no_sub),
        Err("the token lacks a required claim (sub, exp)")
    );
}

const AUDIENCE: &str = "projects-flow";

/// A verifier of `provider`'s tokens (no HS256), refreshing at most every `refresh`.
fn oidc_verifier(provider: &TestProvider, refresh: Duration) -> Verifier {
    let mut oidc = OidcConfig::new(provider.issuer(), AUDIENCE);
    oidc.refresh_interval = refresh;
    oidc.http_timeout = Duration::from_secs(2);
    Verifier::new(&AuthConfig {
        hs256: None,
        oidc: Some(oidc),
    })
}

#[tokio::test]
async fn rs256_and_es256_tokens_of_the_provider_are_accepted() {
    let (rsa, ec) = (TestKey::rsa("rsa-1"), TestKey::ec("ec-1"));
    let provider = TestProvider::start(&[&rsa, &ec]).await;
    let verifier = oidc_verifier(&provider, Duration::from_secs(30));
    let mut claims = provider.claims(AUDIENCE, "alice");
    claims["name"] = json!("Alice");
    claims["roles"] = json!(["moderator"]);
    let actor = verifier.verify(&rsa.sign(&claims)).await.expect("RS256");
    assert_eq!(actor.user_id.as_str(), "alice");
    assert_eq!(actor.name.as_deref(), Some("Alice"));
    assert!(actor.is_moderator());
    let actor = verifier
        .verify(&ec.sign(&provider.claims(AUDIENCE, "bob")))
        .await
        .expect("ES256");
    assert_eq!(actor.user_id.as_str(), "bob");
    assert_eq!(provider.jwks_requests(), 1, "the keys are cached");
    // An audience list that holds ours is accepted too.
    let mut listed = provider.claims(AUDIENCE, "carol");
    listed["aud"] = json!(["another", AUDIENCE]);
    assert!(verifier.verify(&rsa.sign(&listed)).await.is_ok());
}

#[tokio::test]
async fn a_key_rotation_is_picked_up_without_a_restart() {
    let (old, new) = (TestKey::ec("2024"), TestKey::ec("2025"));
    let provider = TestProvider::start(&[&old]).await;
    let verifier = oidc_verifier(&provider, Duration::ZERO);
    let claims = provider.claims(AUDIENCE, "alice");
    assert!(verifier.verify(&old.sign(&claims)).await.is_ok());
    // The provider publishes the new key beside the old one and signs with it.
    provider.publish(&[&old, &new]);
    assert!(verifier.verify(&new.sign(&claims)).await.is_ok());
    assert_eq!(provider.jwks_requests(), 2);
    assert!(verifier.verify(&old.sign(&claims)).await.is_ok());
    assert_eq!(provider.jwks_requests(), 2, "the old key is still cached");
    // Once the JWKS drops the old key, a refresh drops it too.
    provider.publish(&[&new]);
    let unknown = TestKey::ec("made-up");
    assert!(verifier.verify(&unknown.sign(&claims)).await.is_err());
    assert_eq!(
        verifier.verify(&old.sign(&claims)).await.err(),
        Some("the token's key id is not among the provider's keys")
    );
    assert!(verifier.verify(&new.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn an_unknown_key_id_is_refused_and_refreshes_are_rate_limited() {
    let known = TestKey::rsa("known");
    let provider = TestProvider::start(&[&known]).await;
    let verifier = oidc_verifier(&provider, Duration::from_secs(30));
    let claims = provider.claims(AUDIENCE, "alice");
    assert!(verifier.verify(&known.sign(&claims)).await.is_ok());
    for i in 0..5 {
        let stranger = TestKey::ec(&format!("stranger-{i}"));
        assert_eq!(
            verifier.verify(&stranger.sign(&claims)).await.err(),
            Some("the token's key id is not among the provider's keys")
        );
    }
    assert_eq!(
        provider.jwks_requests(),
        1,
        "one fetch per refresh interval"
    );
    // A key that appears in the JWKS within the interval waits for the next one.
    let fresh = TestKey::ec("fresh");
    provider.publish(&[&known, &fresh]);
    assert!(verifier.verify(&fresh.sign(&claims)).await.is_err());
    assert_eq!(provider.jwks_requests(), 1);
}

#[tokio::test]
async fn the_issuer_audience_and_times_are_checked() {
    let key = TestKey::rsa("k");
    let provider = TestProvider::start(&[&key]).await;
    let verifier = oidc_verifier(&provider, Duration::from_secs(30));
    let refused = async |claims: serde_json::Value| verifier.verify(&key.sign(&claims)).await.err();
    let good = provider.claims(AUDIENCE, "alice");

    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("https://evil.example");
    assert_eq!(
        refused(wrong_issuer).await,
        Some("the token's issuer is not accepted")
    );

    let mut wrong_audience = good.clone();
    wrong_audience["aud"] = json!("another-app");
    assert_eq!(
        refused(wrong_audience).await,
        Some("the token's audience is not accepted")
    );

    let mut no_audience = good.clone();
    no_audience.as_object_mut().expect("object").remove("aud");
    assert!(refused(no_audience).await.is_some());

    let mut expired = good.clone();
    expired["exp"] = json!(now() - 120);
    assert_eq!(refused(expired).await, Some("the token has expired"));
    let mut within_leeway = good.clone();
    within_leeway["exp"] = json!(now() - 30);
    assert_eq!(refused(within_leeway).await, None);

    let mut not_yet = good.clone();
    not_yet["nbf"] = json!(now() + 600);
    assert_eq!(
        refused(not_yet).await,
        Some("the token is not valid yet (nbf)")
    );
    let mut nbf_within_leeway = good.clone();
    nbf_within_leeway["nbf"] = json!(now() + 30);
    assert_eq!(refused(nbf_within_leeway).await, None);

    let mut bad_sub = good;
    bad_sub["sub"] = json!("");
    assert_eq!(
        refused(bad_sub).await,
        Some("the token's sub claim is invalid")
    );
}

#[tokio::test]
async fn alg_none_and_hs256_signed_with_the_public_key_are_refused() {
    let key = TestKey::rsa("k");
    let provider = TestProvider::start(&[&key]).await;
    let claims = provider.claims(AUDIENCE, "mallory");
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "k"})),
        b64(&claims)
    );
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("k".into());
    let with_public_key = |secret: &[u8]| {
        encode(&confused, &claims, &EncodingKey::from_secret(secret)).expect("encodes")
    };
    let jwk_text = key.jwk().to_string();
    let forged = [
        with_public_key(key.public_bytes()),
        with_public_key(jwk_text.as_bytes()),
    ];
    // OIDC alone, and OIDC beside an HS256 secret: neither takes the bait.
    let only_oidc = oidc_verifier(&provider, Duration::from_secs(30));
    let mut both_config = AuthConfig::hs256(SecretString::from("0123456789abcdef0123"));
    both_config.oidc = Some(OidcConfig::new(provider.issuer(), AUDIENCE));
    let both = Verifier::new(&both_config);
    for verifier in [&only_oidc, &both] {
        assert!(verifier.verify(&unsigned).await.is_err(), "alg none");
        for token in &forged {
            assert!(
                verifier.verify(token).await.is_err(),
                "HS256 with the public key"
            );
        }
        assert!(verifier.verify(&key.sign(&claims)).await.is_ok());
    }
    assert_eq!(
        only_oidc.verify(&forged[0]).await.err(),
        Some("the token's algorithm is not accepted")
    );
    assert_eq!(
        both.verify(&forged[0]).await.err(),
        Some("the token's signature is invalid")
    );
}

#[tokio::test]
async fn known_keys_verify_while_the_jwks_is_down() {
    let (known, later) = (TestKey::rsa("known"), TestKey::ec("later"));
    let provider = TestProvider::start(&[&known]).await;
    let verifier = oidc_verifier(&provider, Duration::ZERO);
    let claims = provider.claims(AUDIENCE, "alice");
    assert!(verifier.verify(&known.sign(&claims)).await.is_ok());
    provider.set_down(true);
    provider.publish(&[&known, &later]);
    assert!(verifier.verify(&later.sign(&claims)).await.is_err());
    assert!(
        verifier.verify(&known.sign(&claims)).await.is_ok(),
        "a failed fetch keeps the cached keys"
    );
    provider.set_down(false);
    assert!(verifier.verify(&later.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn a_provider_down_at_start_up_is_tried_again_later() {
    let key = TestKey::ec("k");
    let provider = TestProvider::start(&[&key]).await;
    provider.set_down(true);
    let verifier = oidc_verifier(&provider, Duration::ZERO);
    let claims = provider.claims(AUDIENCE, "alice");
    assert!(verifier.verify(&key.sign(&claims)).await.is_err());
    provider.set_down(false);
    assert!(verifier.verify(&key.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn hs256_stays_as_it_was_and_is_off_unless_configured() {
    let secret = SecretString::from("0123456789abcdef0123");
    let hs = Verifier::hs256(&secret);
    let token = Jwt::new(&secret).mint("alice", &["moderator"], 60);
    let actor = hs.verify(&token).await.expect("HS256");
    assert!(actor.is_moderator());
    let key = TestKey::rsa("k");
    let provider = TestProvider::start(&[&key]).await;
    // Without OIDC configured, RS256 is not accepted.
    let rs = key.sign(&provider.claims(AUDIENCE, "alice"));
    assert_eq!(
        hs.verify(&rs).await.err(),
        Some("the token's algorithm is not accepted")
    );
    // With OIDC and no secret, HS256 is not accepted.
    let only_oidc = oidc_verifier(&provider, Duration::from_secs(30));
    assert_eq!(
        only_oidc.verify(&token).await.err(),
        Some("the token's algorithm is not accepted")
    );
    assert_eq!(
        provider.jwks_requests(),
        0,
        "nothing fetched for an HS256 token"
    );
}

#[tokio::test]
async fn the_jwks_url_can_be_given_instead_of_discovered() {
    let key = TestKey::rsa("k");
    let provider = TestProvider::start(&[&key]).await;
    let mut oidc = OidcConfig::new("https://issuer.example", AUDIENCE);
    oidc.jwks_url = Some(provider.jwks_url());
    let verifier = Verifier::new(&AuthConfig {
        hs256: None,
        oidc: Some(oidc),
    });
    let mut claims = provider.claims(AUDIENCE, "alice");
    claims["iss"] = json!("https://issuer.example");
    assert!(verifier.verify(&key.sign(&claims)).await.is_ok());
}
