//! The events of one call id (`connect`, `terminate`, call statuses) → one `calls` row
//! (whatsapp-2026.md A.2).

use super::events::{CallEventKind, CallPart, tracker_value};

/// One call, from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub id: String,
    pub user: bool,
    pub placed_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_s: Option<f64>,
    /// `answered`, `missed`, `rejected`, `failed`, or `None` (still ringing, or not said).
    pub status: Option<&'static str>,
    pub agent_id: Option<String>,
    pub error_code: Option<String>,
    pub terminate_status: Option<String>,
}

impl CallRow {
    pub fn answered(&self) -> bool {
        self.status == Some("answered")
    }

    /// When an answered call ended, else when it was answered: the business's word in the
    /// close rule.
    pub fn business_word_at(&self) -> Option<i64> {
        if !self.answered() {
            return None;
        }
        self.ended_at.or(self.answered_at)
    }
}

/// The row of a call from its events, each with its time, in (time, input order); `None`
/// without events.
pub fn aggregate(parts: &[(i64, &CallPart)], value_error: Option<&str>) -> Option<CallRow> {
    let (_, first) = parts.first()?;
    let terminate = parts
        .iter()
        .find(|(_, p)| p.event == CallEventKind::Terminate);
    let has_status = parts.iter().any(|(_, p)| p.event.is_status());
    let user = parts.iter().find_map(|(_, p)| p.user).unwrap_or_else(|| {
        if has_status {
            return false;
        }
        let sdp = parts.iter().find_map(|(_, p)| {
            (p.event == CallEventKind::Connect)
                .then_some(p.sdp_type.as_deref())
                .flatten()
        });
        match sdp.map(str::to_ascii_lowercase).as_deref() {
            Some("offer") => true,
            Some("answer") => false,
            _ => !parts.iter().any(|(_, p)| p.from_business),
        }
    });
    let placed_at = parts
        .iter()
        .filter(|(_, p)| p.event == CallEventKind::Connect || p.event.is_status())
        .map(|(at, _)| *at)
        .min()
        .or_else(|| terminate.map(|(at, t)| t.start_time.map_or(*at, |s| s.min(*at))))?;
    let accepted = parts
        .iter()
        .find(|(_, p)| p.event == CallEventKind::Accepted)
        .map(|(at, _)| *at);
    let answered_at = terminate.and_then(|(_, t)| t.start_time).or(accepted);
    let ended_at = terminate.map(|(at, t)| t.end_time.unwrap_or(*at));
    let duration_s =
        terminate
            .and_then(|(_, t)| t.duration)
            .or_else(|| match (ended_at, answered_at) {
                (Some(e), Some(a)) => Some((e - a) as f64 / 1000.0),
                _ => None,
            });
    let status = if answered_at.is_some() || duration_s.is_some_and(|d| d > 0.0) {
        Some("answered")
    } else if let Some((_, t)) = terminate {
        let rejected = parts
            .iter()
            .any(|(_, p)| p.event == CallEventKind::Rejected);
        let failed = t
            .terminate_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("failed"));
        Some(if rejected {
            "rejected"
        } else if !user && failed {
            "failed"
        } else {
            "missed"
        })
    } else {
        None
    };
    let agent_id = parts
        .iter()
        .find_map(|(_, p)| tracker_value(p.tracker.as_deref(), "agent").map(str::to_owned));
    let error_code = terminate
        .and_then(|(_, t)| t.error_code.clone())
        .or_else(|| value_error.map(str::to_owned));
    Some(CallRow {
        id: first.id.clone(),
        user,
        placed_at,
        answered_at,
        ended_at,
        duration_s,
        status,
        agent_id,
        error_code,
        terminate_status: terminate.and_then(|(_, t)| t.terminate_status.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(event: CallEventKind) -> CallPart {
        CallPart {
            id: "wacid.1".into(),
            file: String::new(),
            event,
            user: None,
            sdp_type: None,
            from_business: false,
            tracker: None,
            terminate_status: None,
            start_time: None,
            end_time: None,
            duration: None,
            error_code: None,
        }
    }

    #[test]
    fn a_user_call_that_ended_unanswered_is_missed_whatever_the_terminate_says() {
        let connect = CallPart {
            sdp_type: Some("offer".into()),
            ..part(CallEventKind::Connect)
        };
        let terminate = CallPart {
            terminate_status: Some("FAILED".into()),
            ..part(CallEventKind::Terminate)
        };
        let row = aggregate(&[(100, &connect), (140, &terminate)], Some("131000")).unwrap();
        assert!(row.user);
        assert_eq!(row.status, Some("missed"));
        assert_eq!((row.placed_at, row.ended_at), (100, Some(140)));
        assert_eq!(row.error_code.as_deref(), Some("131000"));
        // The same ending for a business call: failed.
        let connect = CallPart {
            sdp_type: Some("answer".into()),
            ..part(CallEventKind::Connect)
        };
        let row = aggregate(&[(100, &connect), (140, &terminate)], None).unwrap();
        assert_eq!((row.user, row.status), (false, Some("failed")));
    }

    #[test]
    fn statuses_make_a_business_call_and_give_its_answer_and_rejection() {
        let ringing = CallPart {
            tracker: Some("agent=a22".into()),
            ..part(CallEventKind::Ringing)
        };
        let rejected = part(CallEventKind::Rejected);
        let terminate = part(CallEventKind::Terminate);
        let row = aggregate(&[(10, &ringing), (30, &rejected), (31, &terminate)], None).unwrap();
        assert_eq!(
            (row.user, row.status, row.placed_at, row.ended_at),
            (false, Some("rejected"), 10, Some(31))
        );
        assert_eq!(row.agent_id.as_deref(), Some("a22"));
        let accepted = part(CallEventKind::Accepted);
        let terminate = CallPart {
            start_time: Some(13),
            end_time: Some(253),
            duration: Some(240.0),
            ..part(CallEventKind::Terminate)
        };
        let row = aggregate(&[(10, &ringing), (13, &accepted), (253, &terminate)], None).unwrap();
        assert_eq!(
            (row.status, row.answered_at, row.duration_s),
            (Some("answered"), Some(13), Some(240.0))
        );
        // Without a terminate and unanswered: still ringing.
        let row = aggregate(&[(10, &ringing)], None).unwrap();
        assert_eq!(row.status, None);
    }

    #[test]
    fn a_call_seen_only_in_its_terminate_is_placed_at_its_start_or_its_time() {
        let terminate = CallPart {
            user: Some(true),
            start_time: Some(50),
            end_time: Some(90),
            ..part(CallEventKind::Terminate)
        };
        let row = aggregate(&[(90, &terminate)], None).unwrap();
        assert_eq!((row.placed_at, row.answered_at), (50, Some(50)));
        assert_eq!(row.duration_s, Some(0.04));
    }
}
