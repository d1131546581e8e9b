//! RS256 and ES256 tokens of an OpenID Connect provider, verified with the
//! keys it publishes (its JWKS), cached in memory by key id.
//!
//! The keys are fetched on the first token, not at start-up, so a provider
//! that is down does not keep a service from starting. A token with a key id
//! the cache does not hold makes the verifier fetch the keys again, at most
//! once per refresh interval: a rotation is picked up without a restart, and
//! a flood of made-up key ids costs the provider one request per interval.
//! A fetch replaces the cache only when it succeeds, so while the provider is
//! unreachable the keys already known keep verifying.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use flow_runtime::config::OidcConfig;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation, decode,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use serde::Deserialize;
use tokio::time::Instant;

use super::{Claims, fetch};

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// The verifier of one provider's tokens.
pub struct Oidc {
    config: OidcConfig,
    validation: HashMap<Algorithm, Validation>,
    keys: RwLock<HashMap<String, CachedKey>>,
    refresh: tokio::sync::Mutex<Refresh>,
}

#[derive(Clone)]
struct CachedKey {
    alg: Algorithm,
    key: DecodingKey,
}

#[derive(Default)]
struct Refresh {
    last_attempt: Option<Instant>,
    /// From `FLOW_OIDC_JWKS_URL`, else discovered once.
    jwks_url: Option<String>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// A key set, each key read on its own so that one the verifier cannot use
/// (another key type, an encryption key) does not hide the others.
#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Self {
        let validation = [Algorithm::RS256, Algorithm::ES256]
            .into_iter()
            .map(|alg| {
                let mut v = Validation::new(alg);
                v.set_issuer(&[&config.issuer]);
                v.set_audience(&[&config.audience]);
                v.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
                v.validate_nbf = true;
                v.leeway = LEEWAY_SECS;
                (alg, v)
            })
            .collect();
        let refresh = Refresh {
            last_attempt: None,
            jwks_url: config.jwks_url.clone(),
        };
        Self {
            config,
            validation,
            keys: RwLock::new(HashMap::new()),
            refresh: tokio::sync::Mutex::new(refresh),
        }
    }

    /// The claims of an RS256 or ES256 token of this provider.
    pub async fn verify(
        &self,
        token: &str,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<Claims, &'static str> {
        let validation = self
            .validation
            .get(&alg)
            .ok_or("the token's algorithm is not accepted")?;
        let kid = kid.ok_or("the token has no key id (kid)")?;
        let key = match self.cached(kid) {
            Some(key) => key,
            None => self.refresh_for(kid).await?,
        };
        if key.alg != alg {
            return Err("the token's algorithm does not match its key");
        }
        decode::<Claims>(token, &key.key, validation)
            .map(|data| data.claims)
            .map_err(|e| super::describe(&e))
    }

    fn cached(&self, kid: &str) -> Option<CachedKey> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.get(kid).cloned()
    }

    /// Fetches the keys again for an unknown `kid`, unless a fetch was tried
    /// within the refresh interval.
    async fn refresh_for(&self, kid: &str) -> Result<CachedKey, &'static str> {
        const UNKNOWN: &str = "the token's key id is not among the provider's keys";
        let mut refresh = self.refresh.lock().await;
        // Another request may have fetched them while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if let Some(last) = refresh.last_attempt
            && last.elapsed() < self.config.refresh_interval
        {
            return Err(UNKNOWN);
        }
        refresh.last_attempt = Some(Instant::now());
        let timeout = self.config.http_timeout;
        match bounded(timeout, self.fetch_keys(&mut refresh)).await {
            Ok(keys) => {
                tracing::info!(
                    keys = keys.len(),
                    issuer = %self.config.issuer,
                    "fetched the identity provider's keys"
                );
                *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
            }
            Err(err) => {
                tracing::warn!(%err, issuer = %self.config.issuer, "cannot fetch the identity provider's keys");
            }
        }
        self.cached(kid).ok_or(UNKNOWN)
    }

    async fn fetch_keys(
        &self,
        refresh: &mut Refresh,
    ) -> Result<HashMap<String, CachedKey>, fetch::FetchError> {
        let jwks_url = match &refresh.jwks_url {
            Some(url) => url.clone(),
            None => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let discovery: Discovery = fetch::get_json(&url).await?;
                if discovery.issuer != self.config.issuer {
                    return Err(fetch::FetchError::Http(format!(
                        "the discovery document names the issuer {:?}, not {:?}",
                        discovery.issuer, self.config.issuer
                    )));
                }
                refresh.jwks_url = Some(discovery.jwks_uri.clone());
                discovery.jwks_uri
            }
        };
        let set: RawKeySet = fetch::get_json(&jwks_url).await?;
        Ok(usable_keys(set))
    }
}

async fn bounded<T>(
    timeout: Duration,
    work: impl Future<Output = Result<T, fetch::FetchError>>,
) -> Result<T, fetch::FetchError> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(fetch::FetchError::Http(format!(
                "timed out after {timeout:?}"
            )))
        })
}

/// The signing keys with a key id the verifier can use: RSA (RS256) and
/// P-256 (ES256). Symmetric keys are never taken from a JWKS.
fn usable_keys(set: RawKeySet) -> HashMap<String, CachedKey> {
    set.keys
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok())
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
                return None;
            }
            let alg = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                _ => return None,
            };
            let declared_ok = match jwk.common.key_algorithm {
                None => true,
                Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
                Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
                Some(_) => false,
            };
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            declared_ok.then_some((kid, CachedKey { alg, key }))
        })
        .collect()
}
