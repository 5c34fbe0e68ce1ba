//! `code_enum!`: a closed vocabulary stored as short codes and shown with human labels.
//!
//! ```ignore
//! use crate::code::code_enum;
//!
//! code_enum!(
//!     /// What it costs.
//!     Cost {
//!         Free => ("free", "Free"),
//!         Fixed => ("fixed", "Fixed price"),
//!     }
//! );
//! ```
//!
//! makes a `pub enum Cost { Free, Fixed }` (each variant documented by its label,
//! `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq`, `Hash`, and `serde::Serialize` as its code) with
//! `Cost::ALL` (every value, in display order), `code()` (the stored code), `label()` (the
//! human label), `from_code()` (reads a code, ignoring surrounding whitespace) and `decode()`
//! (reads a stored code; an unknown one is a `sqlx` decode error). Any
//! module of the crate can use it: `use crate::code::code_enum;`.

/// Declare a closed vocabulary of codes and labels (see the module documentation).
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $(#[doc = $label] $variant),* }
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }
        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// Stored code.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),* } }
            /// Human label.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),* } }
            /// Parse a code.
            pub fn from_code(c: &str) -> Option<Self> { Self::ALL.iter().copied().find(|v| v.code() == c.trim()) }
            /// Read a code stored in the database: a code outside the vocabulary is a decode
            /// error naming the vocabulary and the value (the schema's CHECK or the service
            /// let something through that it should not have).
            pub fn decode(c: &str) -> Result<Self, ::sqlx::Error> {
                Self::from_code(c).ok_or_else(|| ::sqlx::Error::Decode(
                    format!("{} is not a known {} code", c, stringify!($name)).into(),
                ))
            }
        }
    };
}

pub(crate) use code_enum;

#[cfg(test)]
mod tests {
    code_enum!(
        /// A test vocabulary.
        Colour {
            Red => ("red", "Red"),
            DarkBlue => ("dark_blue", "Dark blue"),
        }
    );

    #[test]
    fn codes_labels_and_parsing_round_trip() {
        assert_eq!(Colour::ALL, &[Colour::Red, Colour::DarkBlue]);
        assert_eq!(Colour::DarkBlue.code(), "dark_blue");
        assert_eq!(Colour::DarkBlue.label(), "Dark blue");
        for c in Colour::ALL {
            assert_eq!(Colour::from_code(c.code()), Some(*c));
        }
        assert_eq!(Colour::from_code(" red "), Some(Colour::Red));
        assert_eq!(Colour::from_code("Red"), None);
        assert_eq!(Colour::from_code(""), None);
        assert!(Colour::decode("red").is_ok());
        let e = Colour::decode("green").expect_err("green is not a colour");
        assert!(
            e.to_string().contains("green is not a known Colour code"),
            "{e}"
        );
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).ok().as_deref(),
            Some("\"dark_blue\"")
        );
    }
}
