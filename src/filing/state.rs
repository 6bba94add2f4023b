//! The order's life: which state may follow which. Every move goes through `move_to`: the
//! store changes an order's state only by a `Transition`, which nothing else can make, and
//! records each one in the order's history.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Draft,
    CollectingMaterials,
    Ready,
    Submitted,
    FirstReview,
    SmsVerification,
    BureauReview,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: OrderState,
    pub to: OrderState,
}

impl OrderState {
    pub const ALL: [OrderState; 9] = [
        Self::Draft,
        Self::CollectingMaterials,
        Self::Ready,
        Self::Submitted,
        Self::FirstReview,
        Self::SmsVerification,
        Self::BureauReview,
        Self::Approved,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::CollectingMaterials => "collecting_materials",
            Self::Ready => "ready",
            Self::Submitted => "submitted",
            Self::FirstReview => "first_review",
            Self::SmsVerification => "sms_verification",
            Self::BureauReview => "bureau_review",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The moves the process allows. Going back is explicit: a reviewer's request for a
    /// material returns an order to collecting_materials, an unanswered SMS verification or a
    /// rejection returns it to draft.
    pub fn can_move_to(self, to: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, to),
            (Draft, CollectingMaterials)
                | (CollectingMaterials, Ready)
                | (CollectingMaterials, Draft)
                | (Ready, Submitted)
                | (Ready, CollectingMaterials)
                | (Submitted, FirstReview)
                | (FirstReview, SmsVerification)
                | (FirstReview, CollectingMaterials)
                | (FirstReview, Rejected)
                | (SmsVerification, BureauReview)
                | (SmsVerification, Draft)
                | (BureauReview, Approved)
                | (BureauReview, Rejected)
                | (Rejected, Draft)
        )
    }

    pub fn move_to(self, to: OrderState) -> Result<Transition, IllegalTransition> {
        if self.can_move_to(to) {
            Ok(Transition { from: self, to })
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// The filer may change the subject and services only before submission.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::CollectingMaterials | Self::Ready)
    }
}

/// A step of the process that only orders in some states may take; asked for in another,
/// the answer is "not now" (`NotNow`), and nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A reviewer decides one material: before submission (the filer is still collecting)
    /// or in the first review.
    DecideMaterial,
    /// A reviewer decides the whole order.
    FirstReview,
    /// The filer enters the SMS code.
    ConfirmSmsCode,
    /// The bureau approves or rejects.
    BureauDecision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order in state {state} cannot {}", step.what())]
pub struct NotNow {
    pub state: OrderState,
    pub step: Step,
}

impl Step {
    pub fn allowed_in(self, state: OrderState) -> bool {
        use OrderState::*;
        match self {
            Step::DecideMaterial => state.is_editable() || matches!(state, Submitted | FirstReview),
            Step::FirstReview => matches!(state, Submitted | FirstReview),
            Step::ConfirmSmsCode => state == SmsVerification,
            Step::BureauDecision => state == BureauReview,
        }
    }

    /// Ok when an order in `state` may take this step.
    pub fn check(self, state: OrderState) -> Result<(), NotNow> {
        if self.allowed_in(state) {
            Ok(())
        } else {
            Err(NotNow { state, step: self })
        }
    }

    fn what(self) -> &'static str {
        match self {
            Step::DecideMaterial => "have its materials decided",
            Step::FirstReview => "be decided in first review",
            Step::ConfirmSmsCode => "confirm an SMS code",
            Step::BureauDecision => "be decided by the bureau",
        }
    }
}

/// A move the process allows, made only by `OrderState::move_to` (its fields are private).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    from: OrderState,
    to: OrderState,
}

impl Transition {
    pub fn from(self) -> OrderState {
        self.from
    }

    pub fn to(self) -> OrderState {
        self.to
    }
}

impl std::fmt::Display for OrderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderState::{self, *};

    #[test]
    fn the_happy_path_is_allowed_in_order() {
        let path = [
            Draft,
            CollectingMaterials,
            Ready,
            Submitted,
            FirstReview,
            SmsVerification,
            BureauReview,
            Approved,
        ];
        for pair in path.windows(2) {
            let t = pair[0].move_to(pair[1]).unwrap();
            assert_eq!((t.from(), t.to()), (pair[0], pair[1]));
        }
    }

    #[test]
    fn rejection_returns_to_draft_and_approval_is_final() {
        assert!(BureauReview.can_move_to(Rejected));
        assert!(Rejected.can_move_to(Draft));
        for to in OrderState::ALL {
            assert!(!Approved.can_move_to(to), "approved -> {to}");
        }
    }

    #[test]
    fn each_step_is_allowed_only_where_the_process_takes_it() {
        use super::Step;
        let allowed = |step: Step| -> Vec<OrderState> {
            OrderState::ALL
                .into_iter()
                .filter(|s| step.allowed_in(*s))
                .collect()
        };
        assert_eq!(
            allowed(Step::DecideMaterial),
            [Draft, CollectingMaterials, Ready, Submitted, FirstReview]
        );
        assert_eq!(allowed(Step::FirstReview), [Submitted, FirstReview]);
        assert_eq!(allowed(Step::ConfirmSmsCode), [SmsVerification]);
        assert_eq!(allowed(Step::BureauDecision), [BureauReview]);
        let refused = Step::BureauDecision.check(FirstReview).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "an order in state first_review cannot be decided by the bureau"
        );
    }

    #[test]
    fn skipping_steps_is_refused() {
        let err = Draft.move_to(Submitted).unwrap_err();
        assert_eq!((err.from, err.to), (Draft, Submitted));
        assert!(!Ready.can_move_to(Approved));
        assert!(!Submitted.can_move_to(Draft));
        for s in OrderState::ALL {
            assert!(!s.can_move_to(s), "{s} -> itself");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
