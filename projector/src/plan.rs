//! Planning, pure: delivered events become update statements, and what
//! cannot be decoded, or waits behind a parked event, becomes a parking
//! decision. No I/O: the blocked documents are held in memory.

use flow_domain::events::Envelope;

use crate::{
    parking::{self, Blocked, ParkedEvent},
    projection::{Uncounted, writes},
    write::Write,
};

/// An event as delivered: sequence, subject, payload, when it was stored.
pub struct Delivered {
    pub seq: u64,
    pub subject: String,
    pub payload: bytes::Bytes,
    pub stored_ms: u64,
}

/// The writes for a run of consecutive events, and what had to be parked.
#[derive(Default)]
pub struct Plan {
    /// Each event's sequence, subject and writes.
    pub events: Vec<(u64, String, Vec<Write>)>,
    pub parked: Vec<ParkedEvent>,
    pub position: u64,
}

/// Decodes an event this projector understands.
pub fn decode(payload: &[u8], max_schema_version: u16) -> Result<Envelope, String> {
    let envelope = Envelope::from_json(payload).map_err(|e| e.to_string())?;
    if envelope.version > max_schema_version {
        return Err(format!(
            "schema version {} is newer than this projector understands ({max_schema_version})",
            envelope.version
        ));
    }
    Ok(envelope)
}

/// Decodes events and turns them into writes; parks what cannot be decoded
/// and what waits behind a parked event (blocking the documents it touches).
pub fn plan(
    blocked: &mut Blocked,
    uncounted: &mut Uncounted,
    max_schema_version: u16,
    events: &[Delivered],
) -> Plan {
    let mut plan = Plan::default();
    for event in events {
        plan.position = event.seq;
        let envelope = match decode(&event.payload, max_schema_version) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::error!(seq = event.seq, subject = %event.subject, %error, "undecodable event parked");
                let blocks = parking::subject_keys(&event.subject);
                let behind = blocked.blocking(&blocks);
                blocked.block(&blocks, behind.unwrap_or(event.seq));
                plan.parked.push(ParkedEvent {
                    seq: event.seq,
                    subject: event.subject.clone(),
                    error,
                    behind,
                    blocks,
                });
                continue;
            }
        };
        let event_writes = writes(event.seq as i64, &envelope, uncounted);
        if let Some(parked) = blocked.park_if_behind(event.seq, &event.subject, &event_writes) {
            plan.parked.push(parked);
            continue;
        }
        plan.events
            .push((event.seq, event.subject.clone(), event_writes));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(seq: u64, subject: &str, payload: &'static str) -> Delivered {
        Delivered {
            seq,
            subject: subject.to_owned(),
            payload: bytes::Bytes::from_static(payload.as_bytes()),
            stored_ms: 0,
        }
    }

    #[test]
    fn an_undecodable_event_is_parked_and_blocks_its_documents() {
        let mut blocked = Blocked::default();
        let events = [
            delivered(7, "flow.evt.project.p1", "not json"),
            delivered(8, "flow.evt.project.p1", "nor this"),
        ];
        let plan = plan(&mut blocked, &mut Uncounted::default(), 1, &events);
        assert!(plan.events.is_empty());
        assert_eq!(plan.position, 8, "parked events count as passed");
        assert_eq!(plan.parked[0].blocks, ["projects/p1"]);
        assert_eq!(plan.parked[0].behind, None);
        assert_eq!(
            plan.parked[1].behind,
            Some(7),
            "the second waits behind the first"
        );
        assert_eq!(blocked.blocking(&["projects/p1".to_owned()]), Some(7));
    }
}
