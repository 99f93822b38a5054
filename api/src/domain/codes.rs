//! Controlled vocabularies stored as text codes. One macro gives each a code
//! mapping both ways, so the database, HSDS files and GraphQL agree on spelling.

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// A bit for this value, to hold a set of them in one integer.
            pub fn bit(self) -> u32 {
                1 << self as u32
            }

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parse a code, ignoring case, spaces, hyphens and underscores.
            pub fn from_code(text: &str) -> Option<Self> {
                let wanted = normalise(text);
                Self::ALL.iter().copied().find(|v| normalise(v.code()) == wanted)
            }
        }
    };
}

/// Codes stored as a JSON array, parsed leniently (unknown codes are skipped).
pub fn codes_in<T>(json: &serde_json::Value, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    json.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .filter_map(parse)
        .collect()
}

/// Days of an RRULE `byday` ("MO,WE", "1MO,-1FR"), ordinals dropped.
pub fn days_in(byday: Option<&str>) -> Vec<DayOfWeek> {
    byday
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| {
            DayOfWeek::from_code(
                d.trim()
                    .trim_start_matches(|c: char| c == '-' || c.is_ascii_digit()),
            )
        })
        .collect()
}

fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

code_enum!(
    /// Whether a service can take someone now.
    CapacityStatus { Accepting = "ACCEPTING", Waitlist = "WAITLIST", Full = "FULL", Paused = "PAUSED", Unknown = "UNKNOWN" }
);

code_enum!(
    /// How a service reaches people.
    DeliveryMode { InPerson = "IN_PERSON", Online = "ONLINE", Telephone = "TELEPHONE", HomeVisit = "HOME_VISIT" }
);

code_enum!(
    /// Who may refer someone.
    ReferralRoute { SelfReferral = "SELF", LinkWorker = "LINK_WORKER", Gp = "GP", Professional = "PROFESSIONAL", DropIn = "DROP_IN" }
);

code_enum!(
    /// Days as RRULE codes (HSDS `byday`).
    DayOfWeek { Monday = "MO", Tuesday = "TU", Wednesday = "WE", Thursday = "TH", Friday = "FR", Saturday = "SA", Sunday = "SU" }
);

code_enum!(
    /// HSDS service status.
    ServiceStatus { Active = "active", Inactive = "inactive", Defunct = "defunct", TemporarilyClosed = "temporarily closed" }
);

code_enum!(
    /// Why a service was retired: its feed did (marked it inactive, or stopped
    /// listing it; listed again, it comes back), an editor did, or it was replaced
    /// by a duplicate kept in its place (both stay retired whatever a feed sends).
    RetireReason { Feed = "feed", Editor = "editor", Replaced = "replaced" }
);

code_enum!(
    /// Physical access features of a location, a small controlled list.
    AccessibilityFeature {
        StepFree = "STEP_FREE",
        WheelchairAccess = "WHEELCHAIR_ACCESS",
        AccessibleToilet = "ACCESSIBLE_TOILET",
        HearingLoop = "HEARING_LOOP",
        BslInterpreter = "BSL_INTERPRETER",
        LargePrint = "LARGE_PRINT",
        QuietSpace = "QUIET_SPACE",
        Parking = "PARKING",
        PublicTransport = "PUBLIC_TRANSPORT",
    }
);

code_enum!(
    /// Which eligibility criterion a rule is about.
    EligibilityCriterion { Gender = "GENDER", Circumstance = "CIRCUMSTANCE" }
);

code_enum!(
    /// Restricted-to rules exclude everyone else; suitable-for rules only rank.
    EligibilityRule { RestrictedTo = "RESTRICTED_TO", SuitableFor = "SUITABLE_FOR" }
);

code_enum!(
    /// What a key may do: editors edit their authority's listings, admins also manage
    /// its keys, analysts read the gap views, referrers (link-worker teams) refer
    /// people, providers (one organization's group) answer referrals to its services
    /// and update their capacity.
    Role {
        Editor = "editor",
        Admin = "admin",
        Analyst = "analyst",
        Referrer = "referrer",
        Provider = "provider"
    }
);

code_enum!(
    /// Where a referral stands; the codes are FHIR Task statuses (SDOH Clinical Care).
    ReferralStatus {
        Requested = "requested",
        Opened = "received",
        Accepted = "accepted",
        Declined = "rejected",
        Completed = "completed",
        NotAttended = "failed",
        Withdrawn = "cancelled",
        EnteredInError = "entered-in-error"
    }
);

code_enum!(
    /// How soon the referring team asks the group to answer.
    Urgency {
        Routine = "routine",
        Soon = "soon"
    }
);

code_enum!(
    /// Why a group declined a referral.
    DeclineReason {
        NoCapacity = "NO_CAPACITY",
        NotEligible = "NOT_ELIGIBLE",
        CouldNotContact = "COULD_NOT_CONTACT",
        PersonDeclined = "PERSON_DECLINED",
        Other = "OTHER"
    }
);

impl AccessibilityFeature {
    /// The feature as a person reads it ("Step-free access").
    pub fn name(self) -> &'static str {
        match self {
            Self::StepFree => "Step-free access",
            Self::WheelchairAccess => "Wheelchair access",
            Self::AccessibleToilet => "Accessible toilet",
            Self::HearingLoop => "Hearing loop",
            Self::BslInterpreter => "BSL interpreter",
            Self::LargePrint => "Large print",
            Self::QuietSpace => "Quiet space",
            Self::Parking => "Parking",
            Self::PublicTransport => "Near public transport",
        }
    }

    /// Recognise a feature in free text, for HSDS accessibility records that carry
    /// only a description.
    pub fn recognise(text: &str) -> Option<Self> {
        if let Some(exact) = Self::from_code(text) {
            return Some(exact);
        }
        let lower = text.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if has(&["induction loop", "hearing loop"]) {
            Some(Self::HearingLoop)
        } else if has(&["wheelchair"]) {
            Some(Self::WheelchairAccess)
        } else if has(&["step-free", "step free", "level access", "ramp"]) {
            Some(Self::StepFree)
        } else if has(&["accessible toilet", "disabled toilet"]) {
            Some(Self::AccessibleToilet)
        } else if has(&["bsl", "british sign language"]) {
            Some(Self::BslInterpreter)
        } else if has(&["large print"]) {
            Some(Self::LargePrint)
        } else if has(&["quiet"]) {
            Some(Self::QuietSpace)
        } else if has(&["parking"]) {
            Some(Self::Parking)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_in_any_spelling() {
        assert_eq!(
            DeliveryMode::from_code("in person"),
            Some(DeliveryMode::InPerson)
        );
        assert_eq!(
            DeliveryMode::from_code("HOME_VISIT"),
            Some(DeliveryMode::HomeVisit)
        );
        assert_eq!(
            ServiceStatus::from_code("Temporarily Closed"),
            Some(ServiceStatus::TemporarilyClosed)
        );
        assert_eq!(
            ReferralRoute::from_code("self"),
            Some(ReferralRoute::SelfReferral)
        );
        assert_eq!(DayOfWeek::from_code("we"), Some(DayOfWeek::Wednesday));
        assert_eq!(CapacityStatus::from_code("maybe"), None);
    }

    #[test]
    fn accessibility_is_recognised_in_free_text() {
        assert_eq!(
            AccessibilityFeature::recognise("The building is equipped with induction loops"),
            Some(AccessibilityFeature::HearingLoop)
        );
        assert_eq!(
            AccessibilityFeature::recognise("step_free"),
            Some(AccessibilityFeature::StepFree)
        );
        assert_eq!(AccessibilityFeature::recognise("friendly staff"), None);
    }
}
