//! A small HTTP(S) GET for the provider's discovery document and keys.
//!
//! hyper's HTTP/1 client over tokio-rustls (ring, the system's root
//! certificates): the crates the services already link, with no second TLS
//! stack. One request per connection, no redirects, a bounded body, and the
//! caller bounds the whole exchange with a timeout.

use std::sync::{Arc, OnceLock};

use axum::http::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::{
    TlsConnector,
    rustls::{self, pki_types::ServerName},
};

/// Discovery documents and key sets are a few kilobytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a fetch failed: logged, never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not an http(s) URL")]
    BadUrl(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("{0} answered {1}")]
    Status(String, StatusCode),
    #[error("the answer of {0} is not the expected JSON: {1}")]
    Json(String, serde_json::Error),
}

/// GETs `url` and parses its JSON body as `T`.
pub async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, FetchError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| FetchError::BadUrl(url.to_owned()))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(FetchError::BadUrl(url.to_owned())),
    };
    let host = uri
        .host()
        .ok_or_else(|| FetchError::BadUrl(url.to_owned()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| FetchError::Connect(format!("{host}:{port}"), e))?;
    let body = if tls {
        let name =
            ServerName::try_from(host.clone()).map_err(|e| FetchError::Tls(e.to_string()))?;
        let connector = TlsConnector::from(client_config()?);
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Tls(e.to_string()))?;
        exchange(stream, &uri, url).await?
    } else {
        exchange(tcp, &uri, url).await?
    };
    serde_json::from_slice(&body).map_err(|e| FetchError::Json(url.to_owned(), e))
}

async fn exchange<S>(stream: S, uri: &Uri, url: &str) -> Result<bytes::Bytes, FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = |e: hyper::Error| FetchError::Http(e.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    let driver = tokio::spawn(connection);
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = Request::get(path)
        .header(header::HOST, authority)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "projects-flow")
        .body(axum::body::Body::empty())
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let result = async {
        let response = sender.send_request(request).await.map_err(http)?;
        if response.status() != StatusCode::OK {
            return Err(FetchError::Status(url.to_owned(), response.status()));
        }
        axum::body::to_bytes(axum::body::Body::new(response.into_body()), MAX_BODY_BYTES)
            .await
            .map_err(|e| FetchError::Http(e.to_string()))
    }
    .await;
    driver.abort();
    result
}

/// One TLS client configuration for the process: ring and the system's roots.
fn client_config() -> Result<Arc<rustls::ClientConfig>, FetchError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("no root certificates found on this system".to_owned());
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
                })
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(FetchError::Tls)
}
