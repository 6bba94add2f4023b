//! An upload session's life: the link handed to a phone, from the QR code shown to everything
//! it asked for uploaded and passed.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The link was made and not opened yet.
    Waiting,
    /// A phone opened it and is bound to it.
    Scanned,
    /// The phone has sent something.
    Uploading,
    /// Every material it asked for has a passing upload.
    Completed,
    /// Not opened in time, or idle too long.
    Expired,
}

impl SessionState {
    const ALL: [SessionState; 5] = [
        Self::Waiting,
        Self::Scanned,
        Self::Uploading,
        Self::Completed,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Scanned => "scanned",
            Self::Uploading => "uploading",
            Self::Completed => "completed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Nothing more can happen to the session.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::SessionState;

    #[test]
    fn names_round_trip_and_serialise_as_stored() {
        for s in SessionState::ALL {
            assert_eq!(SessionState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(SessionState::parse("open"), None);
    }
}
