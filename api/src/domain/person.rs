//! The person a link worker is helping, as far as they said: checked once, for every
//! adapter (search, gaps, subscriptions, referrals), into the terms `eligibility`
//! assesses.

use super::codes::{AccessibilityFeature, DayOfWeek, DeliveryMode, ReferralRoute};
use super::validate::{self, Fields};
use crate::error::{AppError, AppResult};

/// Most needs one question names.
const MAX_NEEDS: usize = 20;

/// A time window on a day, in minutes after midnight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub day: DayOfWeek,
    pub from: u16,
    pub to: u16,
}

/// The person, as far as the link worker said. `None` means "not said": not assessed.
#[derive(Clone, Debug, Default)]
pub struct Person {
    pub age: Option<f64>,
    pub gender: Option<String>,
    pub circumstances: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub access_needs: Option<Vec<AccessibilityFeature>>,
    pub max_cost_pence: Option<i64>,
    pub availability: Option<Vec<Window>>,
    pub delivery_modes: Option<Vec<DeliveryMode>>,
    pub referral_route: Option<ReferralRoute>,
    /// Need codes (`needs`): a reason to look, never a rule.
    pub needs: Option<Vec<String>>,
}

/// A person as an adapter received them, before their checks: times of day as text.
#[derive(Clone, Debug, Default)]
pub struct PersonQuestion {
    pub age: Option<f64>,
    pub gender: Option<String>,
    pub circumstances: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub access_needs: Option<Vec<AccessibilityFeature>>,
    pub max_cost_pence: Option<i64>,
    pub availability: Option<Vec<WindowQuestion>>,
    pub delivery_modes: Option<Vec<DeliveryMode>>,
    pub referral_route: Option<ReferralRoute>,
    pub needs: Option<Vec<String>>,
}

/// A time window as asked: "HH:MM" text; a missing end is the start or end of the day.
#[derive(Clone, Debug)]
pub struct WindowQuestion {
    pub day: DayOfWeek,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Need codes as asked (for a person, a gap question): at most `MAX_NEEDS`, each
/// trimmed and lower-cased, each once. Whether they are known is the index's to say.
pub fn check_needs(field: &str, needs: &[String]) -> AppResult<Vec<String>> {
    if needs.len() > MAX_NEEDS {
        return Err(AppError::bad_input(
            field,
            format!("at most {MAX_NEEDS} needs"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for need in needs {
        let need = validate::name(field, need)?.to_ascii_lowercase();
        if !out.contains(&need) {
            out.push(need);
        }
    }
    Ok(out)
}

impl Person {
    /// Check a person once, for every adapter (search, gaps, subscriptions …);
    /// `fields` names the person's fields as the caller's protocol does
    /// (`input.person.age`).
    pub fn check(question: PersonQuestion, fields: Fields) -> AppResult<Self> {
        if let Some(age) = question.age {
            validate::age(&fields.name("age"), age)?;
        }
        if question.max_cost_pence.is_some_and(|p| p < 0) {
            return Err(AppError::bad_input(
                fields.name("maxCostPence"),
                "must not be negative",
            ));
        }
        let availability = match question.availability {
            None => None,
            Some(windows) => {
                let mut out = Vec::new();
                for (i, WindowQuestion { day, from, to }) in windows.into_iter().enumerate() {
                    let field = |part: &str| fields.name(&format!("availability[{i}].{part}"));
                    let minutes = |text: Option<String>, part: &str, default: u16| {
                        text.map(|t| {
                            validate::time_of_day(&field(part), &t).map(validate::minutes_of)
                        })
                        .transpose()
                        .map(|m| m.unwrap_or(default))
                    };
                    let from = minutes(from, "from", 0)?;
                    let to = minutes(to, "to", 24 * 60)?;
                    if to < from {
                        return Err(AppError::bad_input(field("to"), "must not be before from"));
                    }
                    out.push(Window { day, from, to });
                }
                Some(out)
            }
        };
        let needs = question
            .needs
            .map(|needs| check_needs(&fields.name("needs"), &needs))
            .transpose()?;
        Ok(Self {
            needs,
            age: question.age,
            gender: question.gender.map(|g| g.trim().to_lowercase()),
            circumstances: question.circumstances,
            languages: question
                .languages
                .map(|l| l.into_iter().map(|c| c.trim().to_lowercase()).collect()),
            access_needs: question.access_needs,
            max_cost_pence: question.max_cost_pence,
            availability,
            delivery_modes: question.delivery_modes,
            referral_route: question.referral_route,
        })
    }
}
