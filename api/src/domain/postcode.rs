//! UK postcodes: normalised to upper case with one space before the inward code.

use std::fmt;

/// A syntactically valid UK postcode, normalised ("m320jg" → "M32 0JG").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    /// Accepts any case and spacing; refuses what cannot be a UK postcode.
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
            return Err(format!("'{}' is not a UK postcode", text.trim()));
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward_ok = {
            let b = inward.as_bytes();
            b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
        };
        let outward_ok = outward
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && outward.bytes().all(|c| c.is_ascii_alphanumeric())
            && outward.bytes().any(|c| c.is_ascii_digit());
        if !inward_ok || !outward_ok {
            return Err(format!("'{}' is not a UK postcode", text.trim()));
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_case_and_spacing_normalises_to_one_form() {
        for spelling in ["M32 0JG", "m320jg", " m32  0jg ", "M320JG"] {
            assert_eq!(
                Postcode::parse(spelling).map(|p| p.0),
                Ok("M32 0JG".to_string())
            );
        }
        assert_eq!(
            Postcode::parse("sw1a1aa").map(|p| p.0),
            Ok("SW1A 1AA".to_string())
        );
    }

    #[test]
    fn things_that_are_not_postcodes_are_refused() {
        for bad in ["", "hello", "ABC 1234", "M32 0J1", "123 4AB", "M32 ÖJG"] {
            assert!(Postcode::parse(bad).is_err(), "{bad}");
        }
    }
}
