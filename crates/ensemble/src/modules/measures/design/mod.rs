//! Co-designed instruments: programme teams and co-researchers draft a check-in or creative
//! format in a builder; a named panel of at least two other members of the organisation
//! approves it before use; every version is kept, and responses record the version they were
//! collected with. A new version starts as a copy of the last approved one.
//!
//! Who may do what with a version is a proof, [`DesignAccess<R>`] (see `access.rs`): the
//! builder, saving, sending to a panel and new versions need [`Designer`], the panel's
//! decision [`Panel`], reading a version [`DesignerOrPanel`].

mod access;
mod builder;
mod drafts;
mod panels;

pub use access::*;
pub use builder::*;
pub use drafts::*;
pub use panels::*;
