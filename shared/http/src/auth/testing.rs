//! A test identity provider: signing keys and a local HTTP server that
//! publishes them (discovery document and JWKS), for offline tests of the
//! OpenID Connect tokens. Built for this crate's tests and, with the
//! `test-support` feature, for the system tests.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use ring::{rand::SystemRandom, signature};
use serde_json::{Value, json};

/// A fixed RSA 2048 key for tests only (see `testdata/README.md`).
const RSA_TEST_KEY_PEM: &str = include_str!("../../testdata/rsa-test-key.pem");

/// A signing key of the test provider and its public JWK.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    public_der: Vec<u8>,
}

impl TestKey {
    /// The fixed RSA test key under `kid`, for RS256.
    pub fn rsa(kid: &str) -> Self {
        let der = pem_body(RSA_TEST_KEY_PEM);
        let pair = signature::RsaKeyPair::from_der(&der).expect("the RSA test key parses");
        let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(&der),
            jwk: json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(&public.n),
                "e": URL_SAFE_NO_PAD.encode(&public.e),
            }),
            public_der: pair.public().as_ref().to_vec(),
        }
    }

    /// A new P-256 key under `kid`, for ES256.
    pub fn ec(kid: &str) -> Self {
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let rng = SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("generates");
        let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("parses");
        let point = signature::KeyPair::public_key(&pair).as_ref().to_vec();
        // An uncompressed point: 0x04, then x and y of 32 bytes each.
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }),
            public_der: point,
        }
    }

    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public key's bytes (DER for RSA, the point for EC): what an
    /// attacker would try as an HMAC secret.
    pub fn public_bytes(&self) -> &[u8] {
        &self.public_der
    }

    /// `claims` signed with this key, the header naming its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).expect("signs")
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("the PEM body is base64")
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A local provider: `issuer()` serves the discovery document and `/jwks`.
pub struct TestProvider {
    issuer: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    issuer: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    jwks_requests: AtomicUsize,
    down: AtomicBool,
}

impl TestProvider {
    /// Starts the provider on a free port, publishing `keys`.
    pub async fn start(keys: &[&TestKey]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let issuer = format!("http://{}", listener.local_addr().expect("has an address"));
        let shared = Arc::new(Shared::default());
        *shared.issuer.lock().expect("lock") = issuer.clone();
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let provider = Self {
            issuer,
            shared,
            task,
        };
        provider.publish(keys);
        provider
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    /// Replaces the published keys.
    pub fn publish(&self, keys: &[&TestKey]) {
        *self.shared.keys.lock().expect("lock") = keys.iter().map(|k| k.jwk()).collect();
    }

    /// How many times the JWKS was asked for.
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// While down, every answer is 503.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Claims for `sub` from this issuer to `audience`, valid for an hour.
    pub fn claims(&self, audience: &str, sub: &str) -> Value {
        let now = now();
        json!({"iss": self.issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + 3600})
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, StatusCode> {
    if shared.down.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let issuer = shared.issuer.lock().expect("lock").clone();
    Ok(Json(
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")}),
    ))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, StatusCode> {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if shared.down.load(Ordering::SeqCst) {
        return Err(StatusCode::SERVICE_UNAVAILABLE);
    }
    let keys = shared.keys.lock().expect("lock").clone();
    Ok(Json(json!({ "keys": keys })))
}
