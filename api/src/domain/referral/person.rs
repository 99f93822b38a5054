//! The person referred, checked by the rules listings follow, and everything about
//! them a referral keeps sealed: the person, the reason for referring, the fit judged
//! on them.

use serde::{Deserialize, Serialize};

use crate::domain::codes::AccessibilityFeature;
use crate::domain::eligibility::{Fit, Person};
use crate::domain::postcode::Postcode;
use crate::domain::validate::{self, Fields};
use crate::error::{AppError, AppResult};

/// Longest circumstance or access-need text a referral takes.
const MAX_ITEM_CHARS: usize = 100;
/// Most items in one list (circumstances, languages, access needs).
const MAX_ITEMS: usize = 20;

/// The person as the link worker gave them, checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferralPerson {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Normalised ("M1 1AE").
    pub postcode: Option<String>,
    pub age: Option<f64>,
    pub circumstances: Vec<String>,
    pub languages: Vec<String>,
    pub access_needs: Vec<AccessibilityFeature>,
    pub notes: Option<String>,
}

/// The person as received, before their checks.
#[derive(Clone, Debug, Default)]
pub struct PersonDraft {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub age: Option<f64>,
    pub circumstances: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub access_needs: Option<Vec<AccessibilityFeature>>,
    pub notes: Option<String>,
}

fn list<T>(
    f: Fields,
    field: &str,
    items: Option<Vec<String>>,
    check: impl Fn(&str, &str) -> AppResult<T>,
) -> AppResult<Vec<T>> {
    let items = items.unwrap_or_default();
    if items.len() > MAX_ITEMS {
        return Err(AppError::bad_input(
            f.name(field),
            format!("at most {MAX_ITEMS} items"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| check(&f.name(&format!("{field}[{i}]")), item))
        .collect()
}

impl PersonDraft {
    /// Check every field (`f` names them, e.g. `input.person.`); blank optional
    /// texts read as not given. Returns the person and their postcode, parsed.
    pub fn check(self, f: Fields) -> AppResult<(ReferralPerson, Option<Postcode>)> {
        let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
        let name = validate::name(&f.name("name"), &self.name)?;
        let phone = blank(self.phone)
            .map(|p| validate::phone(&f.name("phone"), &p))
            .transpose()?;
        let email = blank(self.email)
            .map(|e| validate::email(&f.name("email"), &e))
            .transpose()?;
        let postcode = blank(self.postcode)
            .map(|p| validate::postcode(&f.name("postcode"), &p))
            .transpose()?;
        if let Some(age) = self.age {
            validate::age(&f.name("age"), age)?;
        }
        let circumstances = list(f, "circumstances", self.circumstances, |field, text| {
            validate::name(field, text).and_then(|t| {
                validate::short_text(field, &t, MAX_ITEM_CHARS).map(|t| t.to_lowercase())
            })
        })?;
        let languages = list(f, "languages", self.languages, validate::language_code)?;
        let access_needs = self.access_needs.unwrap_or_default();
        if access_needs.len() > MAX_ITEMS {
            return Err(AppError::bad_input(
                f.name("accessNeeds"),
                format!("at most {MAX_ITEMS} items"),
            ));
        }
        let notes = blank(self.notes)
            .map(|n| validate::description(&f.name("notes"), &n))
            .transpose()?;
        let person = ReferralPerson {
            name,
            phone,
            email,
            postcode: postcode.as_ref().map(|p| p.as_str().to_string()),
            age: self.age,
            circumstances,
            languages,
            access_needs,
            notes,
        };
        Ok((person, postcode))
    }
}

impl ReferralPerson {
    /// The person as eligibility judges them: what the link worker said.
    pub fn as_searched(&self) -> Person {
        let said = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Person {
            age: self.age,
            circumstances: said(&self.circumstances),
            languages: said(&self.languages),
            access_needs: (!self.access_needs.is_empty()).then(|| self.access_needs.clone()),
            ..Person::default()
        }
    }
}

/// What a referral keeps sealed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Private {
    pub person: ReferralPerson,
    /// Why the link worker refers them.
    pub reason: Option<String>,
    /// The fit when referred; None when the service was not in the search index.
    pub fit: Option<Fit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Fields = Fields("input.person.");

    fn field_of(draft: PersonDraft) -> String {
        match draft.check(F) {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_person_is_checked_by_the_rules_listings_follow() {
        let ok = PersonDraft {
            name: " Ada Lovelace ".into(),
            phone: Some("0161 496 0000".into()),
            email: Some("ada@Example.ORG".into()),
            postcode: Some("m11ae".into()),
            age: Some(72.0),
            circumstances: Some(vec!["Carer".into()]),
            languages: Some(vec!["EN".into(), "urd".into()]),
            ..PersonDraft::default()
        };
        let (person, postcode) = ok.clone().check(F).unwrap();
        assert_eq!(person.name, "Ada Lovelace");
        assert_eq!(person.email.as_deref(), Some("ada@example.org"));
        assert_eq!(person.postcode.as_deref(), Some("M1 1AE"));
        assert_eq!(postcode.unwrap().as_str(), "M1 1AE");
        assert_eq!(person.circumstances, ["carer"]);
        assert_eq!(person.languages, ["en", "urd"]);

        let name = PersonDraft {
            name: "  ".into(),
            ..ok.clone()
        };
        assert_eq!(field_of(name), "input.person.name");
        let name = PersonDraft {
            name: "Ada\u{7}".into(),
            ..ok.clone()
        };
        assert_eq!(field_of(name), "input.person.name");
        let phone = PersonDraft {
            phone: Some("call me".into()),
            ..ok.clone()
        };
        assert_eq!(field_of(phone), "input.person.phone");
        let email = PersonDraft {
            email: Some("ada@".into()),
            ..ok.clone()
        };
        assert_eq!(field_of(email), "input.person.email");
        let postcode = PersonDraft {
            postcode: Some("NOT A CODE".into()),
            ..ok.clone()
        };
        assert_eq!(field_of(postcode), "input.person.postcode");
        let age = PersonDraft {
            age: Some(131.0),
            ..ok.clone()
        };
        assert_eq!(field_of(age), "input.person.age");
        let language = PersonDraft {
            languages: Some(vec!["english".into()]),
            ..ok.clone()
        };
        assert_eq!(field_of(language), "input.person.languages[0]");
        let notes = PersonDraft {
            notes: Some("x".repeat(10_001)),
            ..ok
        };
        assert_eq!(field_of(notes), "input.person.notes");
    }
}
