//! A counting TCP proxy in front of the MongoDB-compatible server: the
//! projector connects through it, so that the statements it sends are counted
//! on the wire, independently of what the projector reports about itself
//! (rebuilds report no write count at all).
//!
//! Each client-to-server message is parsed as an `OP_MSG`: an `update`
//! command counts one command and as many statements as its `updates` (in the
//! body or in a document sequence). Everything is forwarded unchanged.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use mongodb::bson::RawDocument;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// What went through the proxy.
#[derive(Debug, Default)]
pub struct Counts {
    /// `update` commands.
    pub update_commands: AtomicU64,
    /// Statements in those commands.
    pub update_statements: AtomicU64,
    /// Other commands (finds, pings, index creations, ...).
    pub other_commands: AtomicU64,
}

impl Counts {
    /// The `update` commands and statements so far.
    pub fn snapshot(&self) -> Updates {
        Updates {
            commands: self.update_commands.load(Ordering::Relaxed),
            statements: self.update_statements.load(Ordering::Relaxed),
        }
    }
}

/// `update` commands and the statements in them, counted on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Updates {
    pub commands: u64,
    pub statements: u64,
}

impl Updates {
    /// What was counted since `earlier`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            commands: self.commands.saturating_sub(earlier.commands),
            statements: self.statements.saturating_sub(earlier.statements),
        }
    }
}

const OP_MSG: i32 = 2013;

/// The `update` statements in one wire message: `Some(n)` for an update
/// command, `None` for anything else.
pub fn update_statements(message: &[u8]) -> Option<u64> {
    let int = |at: usize| {
        message
            .get(at..at + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if int(12)? != OP_MSG {
        return None;
    }
    let flags = int(16)?;
    let end = if flags & 1 != 0 {
        message.len().checked_sub(4)?
    } else {
        message.len()
    };
    let mut at = 20;
    let mut is_update = false;
    let mut statements = 0u64;
    while at < end {
        let kind = *message.get(at)?;
        at += 1;
        let size = usize::try_from(int(at)?).ok()?;
        let section = message.get(at..at + size)?;
        match kind {
            0 => {
                let body = RawDocument::from_bytes(section).ok()?;
                if let Ok(Some(first)) = body.iter().next().transpose().map(|f| f.map(|(k, _)| k)) {
                    is_update = first == "update";
                }
                if let Ok(updates) = body.get_array("updates") {
                    statements += updates.into_iter().count() as u64;
                }
            }
            1 => {
                // size, identifier (a C string), then documents.
                let rest = &section[4..];
                let nul = rest.iter().position(|b| *b == 0)?;
                if &rest[..nul] == b"updates" {
                    let mut docs = &rest[nul + 1..];
                    while docs.len() >= 4 {
                        let len = usize::try_from(i32::from_le_bytes([
                            docs[0], docs[1], docs[2], docs[3],
                        ]))
                        .ok()?;
                        if len == 0 || len > docs.len() {
                            break;
                        }
                        statements += 1;
                        docs = &docs[len..];
                    }
                }
            }
            _ => return None,
        }
        at += size;
    }
    is_update.then_some(statements)
}

/// Listens on a free port and forwards every connection to `upstream`.
pub async fn start(upstream: u16, counts: Arc<Counts>) -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    // Its own thread and runtime: the projector's commands do not queue
    // behind the load generator's tasks on their way to the server.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("mongo-proxy".into())
        .spawn(move || runtime.block_on(relay(listener, upstream, counts)))?;
    Ok(port)
}

async fn relay(listener: std::net::TcpListener, upstream: u16, counts: Arc<Counts>) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    while let Ok((client, _)) = listener.accept().await {
        let counts = counts.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let back =
                tokio::spawn(
                    async move { tokio::io::copy(&mut server_read, &mut client_write).await },
                );
            let mut buffer = Vec::with_capacity(64 * 1024);
            loop {
                let mut header = [0u8; 4];
                if client_read.read_exact(&mut header).await.is_err() {
                    break;
                }
                let Ok(len) = usize::try_from(i32::from_le_bytes(header)) else {
                    break;
                };
                if !(16..=64 * 1024 * 1024).contains(&len) {
                    break;
                }
                buffer.clear();
                buffer.extend_from_slice(&header);
                buffer.resize(len, 0);
                if client_read.read_exact(&mut buffer[4..]).await.is_err() {
                    break;
                }
                match update_statements(&buffer) {
                    Some(n) => {
                        counts.update_commands.fetch_add(1, Ordering::Relaxed);
                        counts.update_statements.fetch_add(n, Ordering::Relaxed);
                    }
                    None => {
                        counts.other_commands.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if server_write.write_all(&buffer).await.is_err() {
                    break;
                }
            }
            let _ = server_write.shutdown().await;
            back.abort();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, to_vec};

    fn op_msg(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&0i32.to_le_bytes());
        for (kind, bytes) in sections {
            body.push(*kind);
            body.extend_from_slice(bytes);
        }
        let mut message = Vec::new();
        message.extend_from_slice(&((16 + body.len()) as i32).to_le_bytes());
        message.extend_from_slice(&7i32.to_le_bytes());
        message.extend_from_slice(&0i32.to_le_bytes());
        message.extend_from_slice(&OP_MSG.to_le_bytes());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn updates_in_the_body_are_counted() {
        let command = doc! {"update": "threads", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}, {"q": {"_id": 2}, "u": {"$inc": {"n": 1}}}], "$db": "bench"};
        let message = op_msg(&[(0, to_vec(&command).expect("bson"))]);
        assert_eq!(update_statements(&message), Some(2));
    }

    #[test]
    fn updates_in_a_document_sequence_are_counted() {
        let command = doc! {"update": "projects", "ordered": true, "$db": "bench"};
        let mut sequence = Vec::new();
        sequence.extend_from_slice(b"updates\0");
        for id in 0..3 {
            sequence.extend_from_slice(
                &to_vec(&doc! {"q": {"_id": id}, "u": {"$set": {"x": 1}}}).expect("bson"),
            );
        }
        let mut section = ((4 + sequence.len()) as i32).to_le_bytes().to_vec();
        section.extend_from_slice(&sequence);
        let message = op_msg(&[(0, to_vec(&command).expect("bson")), (1, section)]);
        assert_eq!(update_statements(&message), Some(3));
    }

    #[test]
    fn other_commands_are_not_updates() {
        let find = op_msg(&[(
            0,
            to_vec(&doc! {"find": "projects", "filter": {}, "$db": "bench"}).expect("bson"),
        )]);
        assert_eq!(update_statements(&find), None);
        assert_eq!(update_statements(b"short"), None);
    }
}
