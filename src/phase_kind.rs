//! [`PhaseKind`]: which phase a connection is in, as the logs and the status counters name it.

/// A phase's identity, for logs and the status counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhaseKind {
    ReadingHead,
    ReadingBody,
    ServingFile,
    Open,
    Closing,
    Gone,
}

impl PhaseKind {
    /// Every phase a live connection can be in, in the order the status endpoints list them.
    pub const LIVE: [PhaseKind; 5] = [
        PhaseKind::ReadingHead,
        PhaseKind::ReadingBody,
        PhaseKind::ServingFile,
        PhaseKind::Open,
        PhaseKind::Closing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PhaseKind::ReadingHead => "READING_HEAD",
            PhaseKind::ReadingBody => "READING_BODY",
            PhaseKind::ServingFile => "SERVING_FILE",
            PhaseKind::Open => "OPEN",
            PhaseKind::Closing => "CLOSING",
            PhaseKind::Gone => "GONE",
        }
    }
}
